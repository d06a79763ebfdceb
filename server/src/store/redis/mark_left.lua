-- Sets the handled mark of every left message of conversation ARGV[1] to ARGV[2] (JSON),
-- or clears it when ARGV[2] is empty; returns how many messages it marked. In place: the
-- list keeps its order and its bound.
-- KEYS: 1 the left messages (list of JSON)
local marked = 0
for i, json in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local message = cjson.decode(json)
  if message['conversation_id'] == ARGV[1] then
    if ARGV[2] == '' then
      message['handled'] = cjson.null
    else
      message['handled'] = cjson.decode(ARGV[2])
    end
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(message))
    marked = marked + 1
  end
end
return marked
