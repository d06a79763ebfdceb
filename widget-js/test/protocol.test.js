'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const P = require('../src/protocol.js');
const { FakeWebSocket, manualClock, memoryStorage } = require('../test-support/helpers.js');

function setup(opts = {}) {
  FakeWebSocket.reset();
  const storage = opts.storage || memoryStorage();
  const clock = manualClock();
  const client = new P.Client({
    url: 'ws://baton.test/v1/visitor/ws?site=demo',
    WebSocket: FakeWebSocket,
    store: new P.Store('baton:demo:', storage),
    clock,
    helloExtra: () => ({ locale: 'en', page: { url: 'https://shop.test/', title: 'Shop' } })
  });
  const got = [];
  client.on('frame', (f) => got.push(f));
  return { client, clock, storage, got };
}

function welcome(ws, extra = {}) {
  ws.open();
  ws.receive({ type: 'welcome', conversation_id: 'c1', token: 'tok-1', state: 'bot', last_seq: 0, ai_notice: 'AI', ...extra });
}

const ev = (seq, extra = {}) => ({ type: 'message', seq, conversation_id: 'c1', at: '2025-01-01T00:00:00Z', id: 'm' + seq, from: 'bot', text: 'hi ' + seq, ...extra });

test('backoff follows the Phoenix-style steps and stays at the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(P.backoff), [100, 500, 1000, 2000, 5000, 5000, 5000]);
});

test('hello is the first frame, without a token on a first visit', () => {
  const { client } = setup();
  client.connect();
  const ws = FakeWebSocket.last();
  assert.equal(ws.url, 'ws://baton.test/v1/visitor/ws?site=demo');
  ws.open();
  assert.deepEqual(ws.sent, [{ type: 'hello', last_seq: 0, locale: 'en', page: { url: 'https://shop.test/', title: 'Shop' } }]);
});

test('welcome stores the resume token under the namespaced key', () => {
  const { client, storage } = setup();
  client.connect();
  welcome(FakeWebSocket.last());
  assert.equal(storage.map.get('baton:demo:token'), '"tok-1"');
  assert.equal(storage.map.get('baton:demo:conversation'), '"c1"');
  assert.equal(client.status, 'open');
});

test('a message typed before the socket is ready waits in the persisted outbox and is flushed after welcome', () => {
  const { client, storage } = setup();
  const f = client.sendMessage({ type: 'message', text: 'hello' });
  assert.ok(f.client_id && f.client_id.length <= 64);
  assert.equal(JSON.parse(storage.map.get('baton:demo:outbox')).length, 1);
  client.connect();
  const ws = FakeWebSocket.last();
  welcome(ws);
  assert.deepEqual(ws.types(), ['hello', 'message']);
  assert.equal(ws.sent[1].client_id, f.client_id);
  ws.receive({ type: 'ack', client_id: f.client_id, seq: 1 });
  assert.deepEqual(client.outbox(), []);
});

test('after a drop it reconnects with backoff, resumes from the newest seq and re-sends the same client_id', () => {
  const { client, clock, got } = setup();
  client.connect();
  let ws = FakeWebSocket.last();
  welcome(ws);
  ws.receive(ev(1));
  ws.receive(ev(2));
  ws.drop(1006);
  const pending = client.sendMessage({ type: 'message', text: 'sent while offline' });
  assert.deepEqual(clock.pending(), [100]);
  assert.equal(clock.fire(), 100);
  ws = FakeWebSocket.last();
  ws.drop(1006); // the server is still down
  assert.equal(clock.fire(), 500);
  ws = FakeWebSocket.last();
  ws.drop(1006);
  assert.equal(clock.fire(), 1000);
  ws = FakeWebSocket.last();
  ws.open();
  assert.deepEqual(ws.sent[0], { type: 'hello', token: 'tok-1', last_seq: 2, locale: 'en', page: { url: 'https://shop.test/', title: 'Shop' } });
  ws.receive({ type: 'welcome', conversation_id: 'c1', token: 'tok-1', state: 'bot', last_seq: 3 });
  assert.equal(ws.sent[1].client_id, pending.client_id);
  // Replay overlaps what was seen: each seq reaches listeners once.
  ws.receive(ev(2));
  ws.receive(ev(3, { from: 'visitor', client_id: pending.client_id, text: 'sent while offline' }));
  ws.receive(ev(3, { from: 'visitor', client_id: pending.client_id, text: 'sent while offline' }));
  assert.deepEqual(got.filter((f) => f.seq).map((f) => f.seq), [1, 2, 3]);
  // The event carrying our client_id settles the outbox even without an ack.
  assert.deepEqual(client.outbox(), []);
  // A successful welcome resets the backoff.
  ws.drop(1001);
  assert.deepEqual(clock.pending(), [100]);
});

test('close code 4001 stops reconnecting, drops the token and keeps the outbox for a fresh start', () => {
  const { client, clock, storage } = setup();
  const stops = [];
  client.on('stopped', (e) => stops.push(e.code));
  client.connect();
  let ws = FakeWebSocket.last();
  welcome(ws);
  ws.receive(ev(1));
  ws.drop(1006);
  client.sendMessage({ type: 'message', text: 'still here?' });
  clock.fire();
  ws = FakeWebSocket.last();
  ws.open();
  ws.drop(4001);
  assert.deepEqual(stops, [4001]);
  assert.deepEqual(clock.pending(), []);
  assert.equal(storage.map.has('baton:demo:token'), false);
  assert.equal(client.outbox().length, 1);
  client.connect();
  ws = FakeWebSocket.last();
  ws.open();
  assert.deepEqual(ws.sent[0].token, undefined);
  assert.equal(ws.sent[0].last_seq, 0);
  ws.receive({ type: 'welcome', conversation_id: 'c2', token: 'tok-2', state: 'bot', last_seq: 0 });
  assert.deepEqual(ws.types(), ['hello', 'message']);
});

test('close code 4003 stops reconnecting and keeps the token', () => {
  const { client, clock, storage } = setup();
  client.connect();
  const ws = FakeWebSocket.last();
  welcome(ws);
  ws.drop(4003);
  assert.deepEqual(clock.pending(), []);
  assert.equal(storage.map.get('baton:demo:token'), '"tok-1"');
  assert.equal(client.stopped, true);
});

test('frames go through the handler table to listeners by type; junk is ignored', () => {
  const { client } = setup();
  const deltas = [];
  const errors = [];
  client.on('bot_delta', (f) => deltas.push(f.text));
  client.on('error', (f) => errors.push(f.code));
  client.connect();
  const ws = FakeWebSocket.last();
  welcome(ws);
  ws.receive('not json');
  ws.receive({ no: 'type' });
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r', text: 'He' });
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r', text: 'llo' });
  ws.receive({ type: 'error', code: 'unavailable', message: 'nobody' });
  assert.deepEqual(deltas, ['He', 'llo']);
  assert.deepEqual(errors, ['unavailable']);
  assert.equal(typeof P.HANDLERS.welcome, 'function');
});

test('control frames wait for the socket; typing (volatile) does not', () => {
  const { client } = setup();
  client.send({ type: 'request_human' });
  client.send({ type: 'typing', on: true }, true);
  client.connect();
  const ws = FakeWebSocket.last();
  welcome(ws);
  assert.deepEqual(ws.types(), ['hello', 'request_human']);
  client.send({ type: 'typing', on: true }, true);
  assert.deepEqual(ws.types(), ['hello', 'request_human', 'typing']);
});

test('two tabs share the outbox through storage and each renders a seq once', () => {
  const storage = memoryStorage();
  const a = setup({ storage });
  const b = setup({ storage });
  const fa = a.client.sendMessage({ type: 'message', text: 'from A' });
  const fb = b.client.sendMessage({ type: 'message', text: 'from B' });
  assert.deepEqual(a.client.outbox().map((f) => f.text), ['from A', 'from B']);
  a.client.settle(fa.client_id);
  assert.deepEqual(b.client.outbox().map((f) => f.client_id), [fb.client_id]);
});

test('storage that throws falls back to memory', () => {
  const store = new P.Store('baton:demo:', memoryStorage(true));
  store.set('token', 'abc');
  assert.equal(store.get('token'), 'abc');
  store.remove('token');
  assert.equal(store.get('token'), null);
});

test('reset forgets the conversation and reconnects without a token', () => {
  const { client } = setup();
  client.connect();
  welcome(FakeWebSocket.last());
  FakeWebSocket.last().receive(ev(1));
  client.reset();
  const ws = FakeWebSocket.last();
  ws.open();
  assert.deepEqual(ws.sent[0].token, undefined);
  assert.equal(client.lastSeq('c1'), 0);
});

test('the Timer counts tries and reset clears them', () => {
  const clock = manualClock();
  let calls = 0;
  const timer = new P.Timer(() => { calls++; }, P.backoff, clock);
  timer.schedule();
  timer.schedule(); // rescheduling replaces the pending timeout
  assert.deepEqual(clock.pending(), [100]);
  clock.fire();
  timer.schedule();
  assert.deepEqual(clock.pending(), [500]);
  timer.reset();
  assert.deepEqual(clock.pending(), []);
  assert.equal(calls, 1);
  assert.equal(timer.tries, 0);
});
