-- Sets `answered` on an assignment, if there still is one (a read-modify-write that no other
-- node can interleave with).
-- KEYS: 1 the assignments hash. ARGV: 1 the conversation id.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then
  return 0
end
local assignment = cjson.decode(value)
assignment['answered'] = true
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(assignment))
return 1
