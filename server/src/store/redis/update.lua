-- (event.lua is prepended.) Changes one field of an existing conversation (a counter or a record) and keeps the
-- conversation's keys alive; nothing happens to a conversation that does not exist (expired),
-- so a late write cannot bring back half of one.
--
-- KEYS: 1 meta (hash), 2 events (list), 3 dedupe (hash)
-- ARGV: 1 'incr' or 'set', 2 the field, 3 the increment or the value, 4 retention in seconds
--       5 the archive feed (sorted set, see append.lua), 6 the conversation id, 7 now in ms
-- Returns the counter's new value ('incr'), 1 ('set'), or nil when the conversation is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local result = 1
local retention = tonumber(redis.call('HGET', KEYS[1], 'provisional_ttl') or ARGV[4])
if ARGV[1] == 'incr' then
  result = redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[3])
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
for i = 1, 3 do
  redis.call('EXPIRE', KEYS[i], retention)
end
mark_unarchived(KEYS[1], ARGV[5], ARGV[6], tonumber(ARGV[7]))
return result
