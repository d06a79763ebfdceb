-- (event.lua is prepended.) Appends one event that is not a change of state to a conversation in one atomic step:
-- idempotency, precondition, bound, numbering, storing, expiry, and the PUBLISH that carries
-- the event to every node. Doing the PUBLISH here is what orders deliveries by seq: Redis
-- runs one script at a time, so a conversation's events are published in the order they are
-- numbered (state events go through transition.lua, which numbers and publishes the same way).
--
-- KEYS: 1 meta (hash), 2 events (list), 3 dedupe (hash): one conversation, one hash slot.
-- ARGV: 1 idempotency key ('' for none)
--       2 the states the conversation must be in, joined by ',' ('' for any)
--       3 the most events a conversation holds
--       4 the event's JSON after its seq, ',"conversation_id":…}': the script puts
--         '{"seq":<seq>' in front, which gives exactly serde_json's JSON of the numbered event
--       5 the conversation's pub/sub channel
--       6 the payload header before the seq ('en' or 'an', see records.rs): the payload is
--         header .. seq .. ':' .. JSON
--       7 retention in seconds: every key of the conversation expires this long from now
--       8 now, in Unix seconds
--       9 '1' when the event is a visitor message (a provisional conversation becomes a
--         real one: its keys expire after the retention from now on, not after the
--         `provisional_ttl` its meta hash holds)
--      10 the archive feed (sorted set), 11 the conversation id: see feed.lua
--      12 now, in Unix ms (when the archive is due to copy it)
-- Returns {kind, value, token, state}:
--   {'new', seq, token_hash or '', state}  the token index is due for a fresh expiry when not ''
--   {'dup', first seq, '', ''}   {'refused', state, '', ''}   {'full', last_seq, '', ''}
--   {'missing', '', '', ''}
local meta, events, dedupe = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', meta) == 0 then
  return {'missing', '', '', ''}
end
if ARGV[1] ~= '' then
  local seen = redis.call('HGET', dedupe, ARGV[1])
  if seen then
    return {'dup', seen, '', ''}
  end
end
local state = redis.call('HGET', meta, 'state')
if ARGV[2] ~= '' and not in_states(state, ARGV[2]) then
  return {'refused', state, '', ''}
end
local last = tonumber(redis.call('HGET', meta, 'last_seq'))
if last >= tonumber(ARGV[3]) then
  return {'full', tostring(last), '', ''}
end
local digits, json, token, ttl = store_event(meta, events, ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9] == '1')
if ARGV[1] ~= '' then
  redis.call('HSET', dedupe, ARGV[1], digits)
  -- The conversation's first idempotency key makes the hash: it expires with the rest.
  redis.call('EXPIRE', dedupe, ttl)
end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. digits .. ':' .. json)
-- Unarchived, in this same step (see store/feed.rs): a new change number, due now unless claimed.
mark_unarchived(meta, ARGV[10], ARGV[11], tonumber(ARGV[12]))
return {'new', digits, token, state}
