-- Shared by append.lua, transition.lua and update.lua (prepended to each when the scripts are built, so
-- both number, store and expire an event in exactly the same way).

-- Whether `state` is one of the comma-separated `list`.
local function in_states(state, list)
  for expected in string.gmatch(list, '[^,]+') do
    if expected == state then
      return true
    end
  end
  return false
end

-- Numbers and stores the event whose JSON after its seq is `tail`, and refreshes the expiry
-- of the conversation's three keys (KEYS 1-3). A provisional conversation (no visitor message
-- yet: its meta has `provisional_ttl`) keeps its short expiry, unless `promote` makes it a
-- real one with the full retention. Returns the seq's digits, the event's JSON, the token
-- hash when the token index is due for a fresh expiry ('' otherwise), and the expiry set.
local function store_event(meta, events, tail, retention, now, promote)
  local seq = redis.call('HINCRBY', meta, 'last_seq', 1)
  local digits = string.format('%d', seq)
  local json = '{"seq":' .. digits .. tail
  redis.call('RPUSH', events, json)
  local token = ''
  local touched = tonumber(redis.call('HGET', meta, 'token_touched') or '0')
  local provisional = redis.call('HGET', meta, 'provisional_ttl')
  if provisional and promote then
    redis.call('HDEL', meta, 'provisional_ttl')
    touched = 0
  elseif provisional then
    retention = tonumber(provisional)
    touched = now
  end
  if now - touched >= retention / 2 then
    redis.call('HSET', meta, 'token_touched', tostring(now))
    token = redis.call('HGET', meta, 'token_hash') or ''
  end
  for i = 1, 3 do
    redis.call('EXPIRE', KEYS[i], retention)
  end
  return digits, json, token, retention
end


-- Marks the conversation unarchived (see store/feed.rs): a new change number, and its place in
-- the feed, due `due_ms` unless claimed. A provisional conversation is not archived: it joins
-- the feed with the write that makes it a real one. The same change makes it due at once for
-- the inactivity rules (store/idle.rs), in the sorted set whose key is the feed's .. ':idle'.
local function mark_unarchived(meta, feed, id, due_ms)
  redis.call('HINCRBY', meta, 'arev', 1)
  if redis.call('HEXISTS', meta, 'provisional_ttl') == 0 then
    redis.call('ZADD', feed, 'NX', due_ms, id)
    redis.call('ZADD', feed .. ':idle', due_ms, id)
  end
end
