-- (event.lua is prepended.) Changes a conversation's hands in one atomic step: the state, holder and capacity checks,
-- the bound, the numbered `state` event (stored, state set, expiry refreshed, PUBLISHed as
-- append.lua does), the queue entry, the assignment and the agent's index of chats, and the
-- `assigned` delivery to the agent. Redis runs one script at a time, so two nodes racing for
-- one chat have exactly one winner and no agent is given more than max_chats, on any node.
--
-- Slots: KEYS 1-3 are the conversation's (one slot); 4-6 are global. The capacity check also
-- reads the meta keys of the agent's other chats and the previous holder's index, whose
-- names the script builds from ARGV 20-23: fine on one Redis endpoint; a Redis Cluster port
-- must pass those as KEYS (or give the handoff keys one hash tag and check capacity apart).
--
-- KEYS: 1 meta (hash), 2 events (list), 3 dedupe (hash), 4 queue (hash),
--       5 assignments (hash), 6 the chats of the agent to assign (set; only when assigning)
-- ARGV: 1 the conversation id (its field in the queue and assignments hashes)
--       2 the states the conversation must be in, joined by ','
--       3 the agent the assignment must name ('' for no such check)
--       4 the agent to assign ('' for none)   5 their max_chats
--       6 '1' to remove the assignment, '0' to keep it (assigning replaces it anyway)
--       7 the queue change: 'keep', 'remove' or 'add'   8 the entry JSON to add ('' else)
--       9 the new assignment's JSON ('' unless assigning; its `since` is the event's `at`)
--      10 the most events a conversation holds
--      11 the event's JSON after its seq (see append.lua)   12 the state it sets
--      13 the conversation's channel
--      14, 15 the payload header before and after the seq (see records.rs): the payload is
--         ARGV[14] .. seq .. ARGV[15] .. ':' .. JSON
--      16 the assigned agent's channel, 17 the `assigned` payload ('' unless assigning)
--      18 retention in seconds   19 now, in Unix seconds
--      20, 21 a conversation's meta key is ARGV[20] .. id .. ARGV[21]
--      22, 23 an agent's chats set is ARGV[22] .. agent id .. ARGV[23]
--      24 the archive feed (sorted set, see append.lua)   25 now, in Unix ms (when it is due)
-- Returns {kind, value, token, dequeued}:
--   {'done', seq, token_hash or '', the removed queue entry JSON or ''}
--   {'refused', state, '', ''}   {'not_holder', '', '', ''}   {'at_capacity', '', '', ''}
--   {'full', last_seq, '', ''}   {'missing', '', '', ''}
local meta, events, queue, assignments = KEYS[1], KEYS[2], KEYS[4], KEYS[5]
local id = ARGV[1]
local assigning = ARGV[4] ~= ''
if redis.call('EXISTS', meta) == 0 then
  return {'missing', '', '', ''}
end
local state = redis.call('HGET', meta, 'state')
if not in_states(state, ARGV[2]) then
  return {'refused', state, '', ''}
end
local current = redis.call('HGET', assignments, id)
local holder = current and cjson.decode(current)['agent_id']
if ARGV[3] ~= '' and holder ~= ARGV[3] then
  return {'not_holder', '', '', ''}
end
if assigning then
  -- The agent's other chats that still exist; those of expired conversations are pruned
  -- (with their assignments), so they never count against the agent.
  local held = 0
  for _, other in ipairs(redis.call('SMEMBERS', KEYS[6])) do
    if other ~= id then
      if redis.call('EXISTS', ARGV[20] .. other .. ARGV[21]) == 1 then
        held = held + 1
      else
        redis.call('SREM', KEYS[6], other)
        redis.call('HDEL', assignments, other)
      end
    end
  end
  if held >= tonumber(ARGV[5]) then
    return {'at_capacity', '', '', ''}
  end
end
local last = tonumber(redis.call('HGET', meta, 'last_seq'))
if last >= tonumber(ARGV[10]) then
  return {'full', tostring(last), '', ''}
end
-- A provisional conversation (no visitor message yet) becomes a real one when people come in.
local promote = ARGV[12] == 'queued' or ARGV[12] == 'agent'
local digits, json, token = store_event(meta, events, ARGV[11], tonumber(ARGV[18]), tonumber(ARGV[19]), promote)
redis.call('HSET', meta, 'state', ARGV[12])
local dequeued = ''
if ARGV[7] == 'remove' then
  dequeued = redis.call('HGET', queue, id) or ''
  redis.call('HDEL', queue, id)
elseif ARGV[7] == 'add' then
  redis.call('HSET', queue, id, ARGV[8])
end
if holder and (assigning or ARGV[6] == '1') then
  redis.call('SREM', ARGV[22] .. holder .. ARGV[23], id)
  redis.call('HDEL', assignments, id)
end
if assigning then
  redis.call('HSET', assignments, id, ARGV[9])
  redis.call('SADD', KEYS[6], id)
end
redis.call('PUBLISH', ARGV[13], ARGV[14] .. digits .. ARGV[15] .. ':' .. json)
if assigning then
  redis.call('PUBLISH', ARGV[16], ARGV[17])
end
mark_unarchived(meta, ARGV[24], id, tonumber(ARGV[25]))
return {'done', digits, token, dequeued}
