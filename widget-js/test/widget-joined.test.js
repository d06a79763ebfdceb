'use strict';
// What the widget's header says while a person has the chat, in every way a conversation comes
// back: "Chatting with X" only once the server's agent_joined notice (or X's own words) follows
// the newest `state agent`; a chat only given to X (routing, a transfer) still reads waiting.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load, FakeWebSocket, memoryStorage } = require('../test-support/helpers.js');
const W = load('widget');
const widgetUi = require('../test-support/widget-ui.js');

widgetUi.useWidgetGlobals();
const mount = () => widgetUi.mount(W);
const connect = widgetUi.connect;

const WAITING = 'Waiting for a person to join…';
const header = (ui) => ui.q('.sub').textContent;
const ANA = { id: 'ana', name: 'Ana' };
const BO = { id: 'bo', name: 'Bo' };
const given = (agent) => ({ type: 'state', state: 'agent', agent });
const joined = (agent) => ({ type: 'message', id: 'j-' + agent.id, from: 'system', text: agent.name + ' joined the chat.', notice: 'agent_joined' });
const queued = { type: 'state', state: 'queued', reason: 'explicit_request' };
const greeting = { type: 'message', id: 'g', from: 'bot', text: 'Hi!', author: { name: 'Nori' } };

/** The socket drops and the client reconnects (its backoff timer fired); returns the new socket. */
function reconnect(t, ws) {
  ws.drop();
  t.mock.timers.tick(100);
  const next = FakeWebSocket.last();
  assert.notEqual(next, ws);
  next.open();
  return next;
}

/** Events on `ws` numbered after `seq`. */
function numbered(ws, seq) {
  ws.event = (body) => ws.receive({ seq: ++seq, conversation_id: 'c1', at: '2025-01-01T00:00:00Z', ...body });
  return ws;
}

/** localStorage and sessionStorage that survive a "reload" (a new mount) within `fn`. */
function withPageStorage(fn) {
  const define = (k, value) => Object.defineProperty(globalThis, k, { value, configurable: true, writable: true });
  define('localStorage', memoryStorage());
  define('sessionStorage', memoryStorage());
  try {
    fn();
  } finally {
    delete globalThis.localStorage;
    delete globalThis.sessionStorage;
  }
}

test('a chat routed to a person reads waiting until the server says they joined', () => {
  const ui = mount();
  const ws = connect(ui);
  ws.event(queued);
  ws.event(given(ANA));
  assert.equal(header(ui), WAITING);
  ws.event(joined(ANA));
  assert.equal(header(ui), 'Chatting with Ana');
});

test('a page reloaded mid-chat replays from the start and reads the newest take, whatever the tab kept', () => {
  withPageStorage(() => {
    const first = mount();
    const ws = connect(first);
    [greeting, queued, given(ANA), joined(ANA)].forEach(ws.event);
    assert.equal(header(first), 'Chatting with Ana');
    ws.event(given(BO)); // a transfer: Bo has it, has not looked yet
    assert.equal(header(first), WAITING);

    const reloaded = mount();
    const again = connect(reloaded, { state: 'agent', last_seq: 5 });
    assert.equal(again.sent[0].last_seq, 0, 'a new page asks for everything');
    [greeting, queued, given(ANA), joined(ANA), given(BO)].forEach(again.event);
    assert.equal(header(reloaded), WAITING);
    again.event(joined(BO));
    assert.equal(header(reloaded), 'Chatting with Bo');
  });
});

test('a reconnect that replays only what was missed reads the joined notice among it', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ui = mount();
  const ws = connect(ui);
  [queued, given(ANA)].forEach(ws.event);
  assert.equal(header(ui), WAITING);
  const back = numbered(reconnect(t, ws), 2);
  assert.equal(back.sent[0].last_seq, 2);
  back.receive({ type: 'welcome', conversation_id: 'c1', token: 'tok', state: 'agent', last_seq: 3 });
  assert.equal(header(ui), WAITING, 'nothing new has been read yet');
  back.event(joined(ANA));
  assert.equal(header(ui), 'Chatting with Ana');
});

test('a reconnect that replays nothing keeps who joined, on this page and on a new one that has every event', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  withPageStorage(() => {
    const ui = mount();
    const ws = connect(ui);
    [queued, given(ANA), joined(ANA)].forEach(ws.event);
    const back = reconnect(t, ws);
    back.receive({ type: 'welcome', conversation_id: 'c1', token: 'tok', state: 'agent', last_seq: 3 });
    assert.equal(header(ui), 'Chatting with Ana');

    // A page whose client already has events 1-3 is sent none: the tab's session says who joined.
    const page = mount();
    page.w.client.seen.c1 = 3;
    const none = connect(page, { state: 'agent', last_seq: 3 });
    assert.equal(none.sent[0].last_seq, 3);
    assert.equal(header(page), 'Chatting with Ana');
  });
});

test('a transfer reads waiting until the next person joins', () => {
  const ui = mount();
  const ws = connect(ui);
  [queued, given(ANA), joined(ANA)].forEach(ws.event);
  ws.event(given(BO));
  ws.event({ type: 'message', id: 't', from: 'system', text: 'Bo will continue this chat with you.', notice: 'transfer_to_agent' });
  assert.equal(header(ui), WAITING, 'the transfer notice is not a join');
  ws.event(joined(BO));
  assert.equal(header(ui), 'Chatting with Bo');
});

test('after a hand-back to the bot, the next take is waiting again until its person joins', () => {
  const ui = mount();
  const ws = connect(ui);
  [queued, given(ANA), joined(ANA)].forEach(ws.event);
  ws.event({ type: 'state', state: 'bot' });
  ws.event({ type: 'message', id: 'h', from: 'system', text: 'You are back with the assistant.', notice: 'handed_back' });
  assert.doesNotMatch(header(ui), /Chatting|Waiting/);
  [queued, given(ANA)].forEach(ws.event);
  assert.equal(header(ui), WAITING);
  ws.event({ ...joined(ANA), id: 'j2' });
  assert.equal(header(ui), 'Chatting with Ana');
});

test('an old conversation whose notices carry no key: joined once the person writes, not guessed from a system line', () => {
  const ui = mount();
  const ws = connect(ui, { state: 'agent', last_seq: 4 });
  [queued, given(ANA)].forEach(ws.event);
  ws.event({ type: 'message', id: 'old', from: 'system', text: 'Ana joined the chat.' });
  assert.equal(header(ui), WAITING);
  ws.event({ type: 'message', id: 'a1', from: 'agent', author: { name: 'Ana' }, text: 'Hello!', client_id: 'x' });
  assert.equal(header(ui), 'Chatting with Ana');
});
