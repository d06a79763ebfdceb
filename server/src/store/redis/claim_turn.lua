-- Claims the judging of one visitor message (EventLog::claim_turn): the meta hash keeps the
-- newest claimed seq and its claimant.
-- KEYS: 1 meta (hash)
-- ARGV: 1 seq, 2 claimant
-- Returns 1 when claimed (or claimed before by the same claimant), 0 when not, -1 when the
-- conversation is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local claimed = tonumber(redis.call('HGET', KEYS[1], 'turn_seq') or '0')
local seq = tonumber(ARGV[1])
if claimed > seq then
  return 0
end
if claimed == seq and redis.call('HGET', KEYS[1], 'turn_by') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'turn_seq', ARGV[1], 'turn_by', ARGV[2])
return 1
