-- A conversation was archived as of change ARGV[2]: it leaves the archive feed, unless it
-- changed since (then it is due again at once) . See store/feed.rs for the contract.
--
-- KEYS: 1 the archive feed, 2 the conversation's meta (hash)
-- ARGV: 1 the conversation id, 2 the change number archived, 3 now (ms)
local rev = redis.call('HGET', KEYS[2], 'arev')
if (not rev) or rev == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[3]), ARGV[1])
end
return 1
