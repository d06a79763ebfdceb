-- Removes one field of a hash and returns what it held (nil when it held nothing).
-- KEYS: 1 the hash. ARGV: 1 the field.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return value
