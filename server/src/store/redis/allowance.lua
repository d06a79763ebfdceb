-- Takes one token from every bucket named, or from none (see store/allowance.rs), in one
-- atomic step, on Redis's own clock (nodes' clocks may differ).
--
-- KEYS: the buckets (hashes: 't' tokens left, 'at' when counted, in ms)
-- ARGV: for bucket i, 2i-1 its rate in tokens a second and 2i its burst
-- Returns 1 when taken, 0 when a bucket was empty (nothing taken).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local left = {}
for i = 1, #KEYS do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local kept = redis.call('HMGET', KEYS[i], 't', 'at')
  local tokens = burst
  if kept[1] then
    tokens = math.min(burst, tonumber(kept[1]) + math.max(0, now - tonumber(kept[2])) / 1000 * rate)
  end
  if tokens < 1 then
    return 0
  end
  left[i] = tokens - 1
end
for i = 1, #KEYS do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 't', string.format('%.6f', left[i]), 'at', now)
  -- Forgotten once it would be full again: a fresh bucket is the same.
  redis.call('PEXPIRE', KEYS[i], math.ceil((burst - left[i]) / rate * 1000) + 1000)
end
return 1
