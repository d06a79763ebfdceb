'use strict';
// The console's model (Desk) on the agent socket, with a fake WebSocket and a manual clock:
// sign-in, the live queue, taking chats, replies and notes, reconnect and resume.
const test = require('node:test');
const assert = require('node:assert/strict');
const P = require('../src/protocol.js');
const { load, FakeWebSocket, manualClock, memoryStorage } = require('../test-support/helpers.js');
const C = load('console');

const AT = '2025-01-01T10:00:00Z';
const ME = { id: 'dev', name: 'Dev Agent', teams: ['support'], max_chats: 5 };

function setup(opts = {}) {
  FakeWebSocket.reset();
  const storage = opts.storage || memoryStorage();
  const clock = manualClock();
  const announced = [];
  const alerts = { announce: (item) => announced.push(item.conversation_id) };
  const desk = new C.Desk({
    url: 'ws://baton.test/v1/agent/ws', WebSocket: FakeWebSocket, clock, alerts,
    store: new P.Store('baton:console:', storage), now: () => Date.parse('2025-01-01T10:05:00Z')
  });
  const changes = [];
  desk.onChange((what, id) => changes.push(id ? what + ':' + id : what));
  return { desk, storage, clock, announced, changes };
}

const qitem = (id, extra = {}) => ({ conversation_id: id, site: 'demo', reason: 'explicit_request', priority: 0, waiting_since: AT,
  position: 1, summary: 'Summary of ' + id, sentiment: -0.4, last_message: 'I want a person', ...extra });

const ev = (cid, seq, body) => ({ seq, conversation_id: cid, at: AT, ...body });
const visitorMsg = (cid, seq, text) => ev(cid, seq, { type: 'message', id: 'm' + seq, from: 'visitor', text, client_id: 'v' + seq });

function view(cid, events, extra = {}) {
  return {
    conversation_id: cid, site: 'demo', state: 'agent', visitor: { page: { url: 'https://shop.test/', title: 'Shop' }, locale: 'en' },
    reason: 'explicit_request', summary: 'Wants a refund', signals: { sentiment: -0.5, explicit_request: true },
    suggestions: ['Sorry about that!'], canned: [{ title: 'Refunds', text: 'Refunds take 5 days.' }],
    events: events || [
      visitorMsg(cid, 1, 'Where is my parcel?'),
      ev(cid, 2, { type: 'state', state: 'queued', reason: 'explicit_request' }),
      ev(cid, 3, { type: 'state', state: 'agent', agent: { id: 'dev', name: 'Dev Agent' } })
    ],
    ...extra
  };
}

function ready(ws, extra = {}) {
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [], ...extra });
}

test('the first frame is auth with the token; the token is kept in session storage, never in the URL', () => {
  const { desk, storage } = setup();
  assert.equal(desk.resume(), false, 'nothing stored: the sign-in form shows');
  desk.signIn('  demo-agent-token ');
  const ws = FakeWebSocket.last();
  assert.equal(ws.url, 'ws://baton.test/v1/agent/ws');
  ws.open();
  assert.deepEqual(ws.sent, [{ type: 'auth', token: 'demo-agent-token', status: 'online' }]);
  assert.equal(storage.map.get('baton:console:token'), '"demo-agent-token"');
  // A reload of the tab signs in again from session storage.
  const again = setup({ storage });
  assert.equal(again.desk.resume(), true);
  FakeWebSocket.last().open();
  assert.deepEqual(FakeWebSocket.last().sent, [{ type: 'auth', token: 'demo-agent-token', status: 'online' }]);
});

test('a wrong token (4001) signs out with a message, drops the token and stops reconnecting', () => {
  const { desk, storage, clock } = setup();
  desk.signIn('nope');
  const ws = FakeWebSocket.last();
  ws.open();
  ws.drop(4001);
  assert.equal(desk.signedIn, false);
  assert.match(desk.signInError, /not accepted/);
  assert.equal(storage.map.has('baton:console:token'), false);
  assert.deepEqual(clock.pending(), [], 'no reconnect after 4001');
});

test('ready fills the queue in order and opens the chats the agent already has, without alerting', () => {
  const { desk, announced } = setup();
  desk.signIn('t');
  ready(FakeWebSocket.last(), {
    queue: [qitem('q2', { waiting_since: '2025-01-01T10:01:00Z' }), qitem('q1')],
    conversations: [view('c1')]
  });
  assert.equal(desk.conn, 'open');
  assert.equal(desk.agent.name, 'Dev Agent');
  assert.deepEqual(desk.queue.map((q) => q.conversation_id), ['q1', 'q2']);
  assert.equal(desk.selected, 'q1');
  assert.deepEqual(desk.order, ['c1']);
  assert.equal(desk.active, 'c1');
  const c = desk.chats.c1;
  assert.equal(c.summary, 'Wants a refund');
  assert.deepEqual(c.suggestions, ['Sorry about that!']);
  assert.equal(c.canned[0].title, 'Refunds');
  assert.equal(c.events.length, 3);
  assert.equal(c.ended, null);
  assert.deepEqual(announced, [], 'what was already waiting at sign-in is not announced');
});

test('a new escalation in a queue snapshot is announced once and counted unread while the page is hidden', () => {
  const { desk, announced } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { queue: [qitem('q1')] });
  desk.setVisible(false);
  ws.receive({ type: 'queue_snapshot', items: [qitem('q1'), qitem('q2', { position: 2, reason: 'negative_sentiment' })] });
  assert.deepEqual(announced, ['q2']);
  assert.equal(desk.unread(), 1);
  ws.receive({ type: 'queue_snapshot', items: [qitem('q1'), qitem('q2', { position: 2 })] });
  assert.deepEqual(announced, ['q2'], 'the same chat is not announced twice');
  desk.setVisible(true);
  assert.equal(desk.unread(), 0);
  ws.receive({ type: 'queue_snapshot', items: [qitem('q2', { position: 1 })] });
  assert.deepEqual(desk.queue.map((q) => q.conversation_id), ['q2']);
  assert.equal(desk.selected, 'q2', 'the selection moves on when the selected chat leaves the queue');
});

test('j/k selection wraps; taking sends accept and the assigned chat opens and leaves the queue', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { queue: [qitem('q1'), qitem('q2', { position: 2 }), qitem('q3', { position: 3 })] });
  assert.equal(desk.move(1), 'q2');
  assert.equal(desk.move(1), 'q3');
  assert.equal(desk.move(1), 'q1');
  assert.equal(desk.move(-1), 'q3');
  desk.take();
  assert.deepEqual(ws.sent.at(-1), { type: 'accept', conversation_id: 'q3' });
  assert.equal(desk.accepting.q3, true);
  ws.receive({ type: 'assigned', conversation: view('q3') });
  assert.equal(desk.active, 'q3');
  assert.deepEqual(desk.queue.map((q) => q.conversation_id), ['q1', 'q2']);
  assert.equal(desk.accepting.q3, undefined);
  // A snapshot sent before the server dropped it from the queue does not bring it back.
  ws.receive({ type: 'queue_snapshot', items: [qitem('q1'), qitem('q2', { position: 2 }), qitem('q3', { position: 3 })] });
  assert.deepEqual(desk.queue.map((q) => q.conversation_id), ['q1', 'q2']);
});

test('already_taken clears the pending accept and tells the agent', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { queue: [qitem('q1')] });
  desk.take('q1');
  ws.receive({ type: 'error', code: 'already_taken', message: 'taken' });
  assert.deepEqual(desk.accepting, {});
  assert.match(desk.notice.text, /Another agent took that chat/);
  assert.equal(desk.notice.tone, 'error');
});

test('a reply goes through the outbox with a client_id and shows as pending until its event comes back', () => {
  const { desk, storage } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  const frame = desk.reply('c1', '  Hello, I can help.  ');
  assert.deepEqual(ws.sent.at(-1), { type: 'message', conversation_id: 'c1', text: 'Hello, I can help.', client_id: frame.client_id });
  assert.equal(JSON.parse(storage.map.get('baton:console:outbox')).length, 1);
  assert.equal(desk.chats.c1.pending.length, 1);
  ws.receive({ type: 'ack', client_id: frame.client_id, seq: 4 });
  assert.equal(JSON.parse(storage.map.get('baton:console:outbox')).length, 0);
  const echo = ev('c1', 4, { type: 'message', id: 'm4', from: 'agent', text: 'Hello, I can help.', client_id: frame.client_id, author: { name: 'Dev Agent' } });
  ws.receive(echo);
  ws.receive(echo);
  const c = desk.chats.c1;
  assert.equal(c.pending.length, 0);
  assert.deepEqual(c.events.map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(desk.reply('c1', '   '), null, 'blank replies are not sent');
});

test('a reply typed while offline is sent once, with the same client_id, when the socket returns; nothing doubles', () => {
  const { desk, clock } = setup();
  desk.signIn('t');
  let ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  ws.receive(visitorMsg('c1', 4, 'Hello?'));
  ws.drop(1006);
  assert.equal(desk.conn, 'closed');
  const frame = desk.reply('c1', 'Sorry, back now');
  desk.note('c1', 'Customer is a VIP');
  assert.equal(desk.chats.c1.pending.length, 2);
  clock.fire();
  ws = FakeWebSocket.last();
  ws.open();
  assert.deepEqual(ws.types(), ['auth'], 'nothing but auth before ready');
  // The server's view has everything up to seq 5 (a visitor message sent while we were away).
  const events = [...view('c1').events, visitorMsg('c1', 4, 'Hello?'), visitorMsg('c1', 5, 'Anyone there?')];
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [view('c1', events)] });
  assert.deepEqual(ws.types(), ['auth', 'message', 'note']);
  assert.equal(ws.sent[1].client_id, frame.client_id);
  const c = desk.chats.c1;
  assert.deepEqual(c.events.map((e) => e.seq), [1, 2, 3, 4, 5], 'each event once after the resume');
  ws.receive(ev('c1', 6, { type: 'message', id: 'm6', from: 'agent', text: 'Sorry, back now', client_id: frame.client_id }));
  ws.receive(ev('c1', 7, { type: 'note', text: 'Customer is a VIP', author: { name: 'Dev Agent' } }));
  assert.equal(c.pending.length, 0);
  assert.deepEqual(desk.client.outbox(), []);
  // Another drop and resume: the outbox is empty, so nothing is sent twice.
  ws.drop(1001);
  clock.fire();
  ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [view('c1', events.concat([
    ev('c1', 6, { type: 'message', id: 'm6', from: 'agent', text: 'Sorry, back now', client_id: frame.client_id }),
    ev('c1', 7, { type: 'note', text: 'Customer is a VIP', author: { name: 'Dev Agent' } })
  ]))] });
  assert.deepEqual(ws.types(), ['auth']);
  assert.deepEqual(c.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
});

test('after a reload the outbox from session storage is re-sent and shown as pending', () => {
  const first = setup();
  first.desk.signIn('t');
  ready(FakeWebSocket.last(), { conversations: [view('c1')] });
  FakeWebSocket.last().drop(1006);
  const frame = first.desk.reply('c1', 'typed just before the reload');
  const { desk } = setup({ storage: first.storage });
  desk.resume();
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  assert.deepEqual(ws.types(), ['auth', 'message']);
  assert.equal(ws.sent[1].client_id, frame.client_id);
  assert.deepEqual(desk.chats.c1.pending.map((p) => p.text), ['typed just before the reload']);
});

test('on resume, a chat that is no longer ours is marked ended and its unsent reply is dropped, not sent', () => {
  const { desk, clock } = setup();
  desk.signIn('t');
  let ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1'), view('c2')] });
  ws.drop(1006);
  desk.reply('c1', 'too late');
  desk.reply('c2', 'still mine');
  clock.fire();
  ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [view('c2')] });
  assert.deepEqual(ws.sent.slice(1).map((f) => f.text), ['still mine']);
  assert.equal(desk.chats.c1.ended, 'gone');
  assert.equal(desk.chats.c1.pending[0].failed, true);
  assert.match(desk.notice.text, /could not be sent/);
  assert.equal(desk.reply('c1', 'again'), null, 'an ended chat takes no replies');
});

test('notes go out as note frames and come back as note events, never as messages', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  assert.equal(desk.note('c1', 'Checked the order: shipped Monday'), true);
  assert.deepEqual(ws.sent.at(-1), { type: 'note', conversation_id: 'c1', text: 'Checked the order: shipped Monday' });
  assert.equal(desk.chats.c1.pending[0].kind, 'note');
  ws.receive(ev('c1', 4, { type: 'note', text: 'Checked the order: shipped Monday', author: { name: 'Dev Agent' } }));
  assert.equal(desk.chats.c1.pending.length, 0);
  assert.equal(desk.chats.c1.events.at(-1).type, 'note');
});

test('hand back, resolve and transfer send their frames; the state event ends the chat for the agent', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1'), view('c2'), view('c3')] });
  desk.handback('c1');
  assert.deepEqual(ws.sent.at(-1), { type: 'handback', conversation_id: 'c1' });
  assert.equal(desk.chats.c1.closing, 'handback');
  ws.receive(ev('c1', 4, { type: 'state', state: 'bot' }));
  assert.equal(desk.chats.c1.ended, 'handed_back');
  assert.equal(desk.handback('c1'), false, 'nothing more to do on an ended chat');
  desk.resolve('c2');
  assert.deepEqual(ws.sent.at(-1), { type: 'resolve', conversation_id: 'c2' });
  ws.receive(ev('c2', 4, { type: 'state', state: 'resolved' }));
  assert.equal(desk.chats.c2.ended, 'resolved');
  desk.transfer('c3', { team: 'billing' });
  assert.deepEqual(ws.sent.at(-1), { type: 'transfer', conversation_id: 'c3', to: { team: 'billing' } });
  ws.receive(ev('c3', 4, { type: 'state', state: 'queued', reason: 'transfer' }));
  assert.equal(desk.chats.c3.ended, 'transferred');
  assert.equal(desk.chats.c3.reason, 'transfer');
  desk.close('c1');
  assert.deepEqual(desk.order, ['c2', 'c3']);
});

test('several chats at once: unread counts per chat, cleared when the agent switches to it', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1'), view('c2')] });
  assert.equal(desk.active, 'c1');
  ws.receive(visitorMsg('c2', 4, 'hello?'));
  ws.receive(visitorMsg('c2', 5, 'are you there?'));
  ws.receive(visitorMsg('c1', 4, 'thanks'));
  assert.equal(desk.chats.c2.unread, 2);
  assert.equal(desk.chats.c1.unread, 0, 'the open chat is being read');
  assert.equal(desk.unread(), 2);
  desk.cycle(1);
  assert.equal(desk.active, 'c2');
  assert.equal(desk.unread(), 0);
  desk.cycle(1);
  assert.equal(desk.active, 'c1', 'cycling wraps');
});

test('bot replies stream into a watched chat, the message completes them, a cancel drops them', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r1', text: 'You can ' });
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r1', text: 'return it.' });
  assert.equal(desk.chats.c1.streams.r1, 'You can return it.');
  ws.receive(ev('c1', 4, { type: 'message', id: 'r1', from: 'bot', text: 'You can return it.' }));
  assert.deepEqual(desk.chats.c1.streams, {});
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r2', text: 'Let me' });
  ws.receive({ type: 'bot_cancelled', conversation_id: 'c1', reply_id: 'r2' });
  assert.deepEqual(desk.chats.c1.streams, {});
  ws.receive({ type: 'bot_delta', conversation_id: 'nope', reply_id: 'r3', text: 'x' }); // not ours: ignored
});

test('visitor typing, suggestion updates and the away status (kept across reconnects)', () => {
  const { desk, clock } = setup();
  desk.signIn('t');
  let ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  ws.receive({ type: 'typing', conversation_id: 'c1', from: 'visitor', on: true });
  assert.equal(desk.chats.c1.typing, true);
  ws.receive(visitorMsg('c1', 4, 'so?'));
  assert.equal(desk.chats.c1.typing, false, 'a message ends the typing indicator');
  ws.receive({ type: 'suggestions', conversation_id: 'c1', replies: ['A', 'B'] });
  assert.deepEqual(desk.chats.c1.suggestions, ['A', 'B']);
  desk.typing('c1', true);
  desk.typing('c1', true);
  assert.deepEqual(ws.sent.filter((f) => f.type === 'typing'), [{ type: 'typing', conversation_id: 'c1', on: true }], 'sent on change only');
  desk.setStatus('away');
  assert.deepEqual(ws.sent.at(-1), { type: 'status', status: 'away' });
  ws.drop(1006);
  desk.typing('c1', false);
  clock.fire();
  ws = FakeWebSocket.last();
  ready(ws, { conversations: [view('c1')] });
  assert.deepEqual(ws.sent, [{ type: 'auth', token: 't', status: 'away' }, { type: 'status', status: 'away' }], 'typing is volatile; the status is restored, in auth already');
});

test('signing out forgets the token, the outbox and every chat', () => {
  const { desk, storage } = setup();
  desk.signIn('t');
  ready(FakeWebSocket.last(), { conversations: [view('c1')] });
  FakeWebSocket.last().drop(1006);
  desk.reply('c1', 'unsent');
  desk.signOut();
  assert.equal(desk.signedIn, false);
  assert.equal(storage.map.has('baton:console:token'), false);
  assert.equal(storage.map.has('baton:console:outbox'), false);
  assert.deepEqual(desk.order, []);
  assert.equal(desk.client, null);
});

test('a chat routed to the agent without asking is announced and opened if none is', () => {
  const { desk, announced } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws);
  desk.setVisible(false);
  ws.receive({ type: 'assigned', conversation: view('r1') });
  assert.deepEqual(announced, ['r1']);
  assert.equal(desk.active, 'r1');
  assert.equal(desk.unread(), 1, 'counted until the agent looks');
  desk.take('q5');
  ws.receive({ type: 'assigned', conversation: view('q5') });
  assert.deepEqual(announced, ['r1'], 'a chat the agent took is not announced');
  assert.equal(desk.active, 'q5');
});

test('messages visitors left arrive with ready and live, newest first, once each', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  const m1 = { conversation_id: 'l1', site: 'demo', email: 'a@shop.test', text: 'Call me', at: '2025-01-01T09:00:00Z' };
  const m2 = { conversation_id: 'l2', site: 'demo', email: 'b@shop.test', text: 'Refund?', at: '2025-01-01T09:30:00Z' };
  ready(ws, { left_messages: [m1] });
  ws.receive({ type: 'left_message', message: m2 });
  ws.receive({ type: 'left_message', message: m2 });
  assert.deepEqual(desk.left.map((m) => m.email), ['b@shop.test', 'a@shop.test']);
  assert.match(desk.notice.text, /b@shop\.test/);
});

test('an sla_breach tells the agent how long the chat has waited for a person', () => {
  const { desk } = setup();
  desk.signIn('t');
  const ws = FakeWebSocket.last();
  ready(ws, { queue: [qitem('q1')] });
  ws.receive({ type: 'sla_breach', conversation_id: 'q1', site: 'demo', state: 'queued', team: null, waited_secs: 125 });
  assert.match(desk.notice.text, /waited 2m 05s for a person, past the SLA/);
  assert.equal(desk.notice.tone, 'error');
});
