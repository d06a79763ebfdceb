-- Removes every left message whose email is ARGV[1] (compared lowercase) and, unless
-- ARGV[2] is empty, whose site is ARGV[2], from the list of left messages; returns the
-- conversation ids they named, one per message removed.
-- KEYS: 1 the left messages (list of JSON)
local removed = {}
for _, json in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local message = cjson.decode(json)
  if string.lower(message['email'] or '') == ARGV[1] and (ARGV[2] == '' or message['site'] == ARGV[2]) then
    redis.call('LREM', KEYS[1], 0, json)
    table.insert(removed, message['conversation_id'])
  end
end
return removed
