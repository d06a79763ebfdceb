-- Takes any amount from one bucket, even below zero, down to one burst of debt (see
-- store/allowance.rs, "Charge"), on Redis's own clock; refills first, as allowance.lua does.
--
-- KEYS[1]: the bucket (hash: 't' tokens left, 'at' when counted, in ms)
-- ARGV: its rate in tokens a second, its burst, the amount
-- Returns 1.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local rate, burst, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local kept = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = burst
if kept[1] then
  tokens = math.min(burst, tonumber(kept[1]) + math.max(0, now - tonumber(kept[2])) / 1000 * rate)
end
local left = math.max(-burst, tokens - amount)
redis.call('HSET', KEYS[1], 't', string.format('%.6f', left), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - left) / rate * 1000) + 1000)
return 1
