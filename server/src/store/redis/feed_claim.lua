-- Claims up to ARGV[3] conversations of the archive feed that are due (score <= now), oldest
-- due first, and makes them due again only when the lease ends. A member whose conversation
-- expired leaves the feed. See store/feed.rs for the contract.
--
-- KEYS: 1 the archive feed (sorted set: conversation id -> when due, Unix ms)
-- ARGV: 1 now (ms), 2 the lease (ms), 3 the most to claim
--       4, 5 a conversation's meta key is ARGV[4] .. id .. ARGV[5]
-- Returns {id, rev, id, rev, ...}
local claimed = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local due_at = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(due) do
  local rev = redis.call('HGET', ARGV[4] .. id .. ARGV[5], 'arev')
  if rev then
    redis.call('ZADD', KEYS[1], 'XX', due_at, id)
    table.insert(claimed, id)
    table.insert(claimed, rev)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return claimed
