'use strict';
// The agent console's pure helpers and its alerts (notification permission flow, chime).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const P = require('../src/protocol.js');
const { load, memoryStorage } = require('../test-support/helpers.js');
const C = load('console');

test('waiting time reads at a glance and ticks by the second for the first hour', () => {
  assert.deepEqual([0, 999, 45000, 60000, 185000, 3599000, 3600000, 3720000, 90061000].map(C.formatWait),
    ['0s', '0s', '45s', '1m 00s', '3m 05s', '59m 59s', '1h 00m', '1h 02m', '25h 01m']);
  assert.equal(C.formatWait(-5000), '0s', 'a clock skew never shows a negative wait');
  assert.deepEqual([60000, 120000, 299000, 300000].map(C.waitTone), ['', 'warn', 'warn', 'late']);
});

test('the queue is ordered like the server orders it: given back first, then priority, then the longest wait', () => {
  const items = [
    { conversation_id: 'a', position: 1, priority: 0, waiting_since: '2025-01-01T10:00:00Z' },
    { conversation_id: 'b', position: 1, priority: 5, waiting_since: '2025-01-01T10:05:00Z' },
    { conversation_id: 'c', position: 2, priority: 5, waiting_since: '2025-01-01T10:02:00Z' },
    { conversation_id: 'd', position: 1, priority: 0, waiting_since: '2025-01-01T10:07:00Z', returned: true },
    { conversation_id: 'e', position: 3, waiting_since: '2025-01-01T09:00:00Z' }
  ];
  assert.deepEqual(C.sortQueue(items).map((i) => i.conversation_id), ['d', 'c', 'b', 'e', 'a'],
    'position counts within a line (site, team), so it does not order the whole queue');
  assert.equal(items[0].conversation_id, 'a', 'the input is not reordered in place');
});

test('sentiment becomes a short label with a tone, from a number or a label', () => {
  assert.deepEqual([-0.8, -0.3, 0, 0.1, 0.6].map((v) => C.sentimentInfo(v).label),
    ['very negative', 'negative', 'neutral', 'neutral', 'positive']);
  assert.equal(C.sentimentInfo(-0.8).tone, 'neg');
  assert.deepEqual(C.sentimentInfo('negative'), { label: 'negative', tone: 'neg' });
  assert.equal(C.sentimentInfo(null), null);
  assert.equal(C.sentimentInfo(NaN), null);
});

test('every escalation reason of the protocol has a label, a colour and an explanation', () => {
  for (const r of ['explicit_request', 'negative_sentiment', 'low_confidence', 'repeated_question', 'topic', 'bot_error', 'max_turns', 'transfer']) {
    const info = C.reasonInfo(r);
    assert.ok(info.label && info.tone && info.text, r);
  }
  assert.deepEqual(C.reasonInfo('brand_new_reason'), { label: 'Brand new reason', tone: 'slate', text: '' });
});

test('transcripts merge by seq: once each, in order, whatever arrives twice or late', () => {
  const e = (seq) => ({ type: 'message', seq, text: 't' + seq });
  const merged = C.mergeEvents([e(1), e(2), e(4)], [e(4), e(3), e(2), e(5), { type: 'message' }, null]);
  assert.deepEqual(merged.map((x) => x.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(C.mergeEvents([], undefined), []);
});

test('the title carries the unread count', () => {
  assert.equal(C.titleWith(0), 'Baton console');
  assert.equal(C.titleWith(3), '(3) Baton console');
});

test('keyboard: j/k and Enter drive the queue, Enter sends, Alt keys act on the open chat', () => {
  const k = (key, extra = {}, ctx = {}) => C.keyAction({ key, code: extra.code || '', altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...extra }, ctx);
  assert.equal(k('j'), 'queue-next');
  assert.equal(k('k'), 'queue-prev');
  assert.equal(k('ArrowDown'), null, 'arrows scroll the page unless the queue has focus');
  assert.equal(k('ArrowDown', {}, { queue: true }), 'queue-next');
  assert.equal(k('Enter', {}, { queue: true }), 'take');
  assert.equal(k('Enter'), null);
  assert.equal(k('j', {}, { composer: true }), null, 'typing a j in the composer types a j');
  assert.equal(k('j', {}, { typing: true }), null);
  assert.equal(k('Enter', {}, { composer: true }), 'send');
  assert.equal(k('Enter', { ctrlKey: true }, { composer: true }), 'send');
  assert.equal(k('Enter', { metaKey: true, shiftKey: true }, { composer: true }), 'send');
  assert.equal(k('Enter', { shiftKey: true }, { composer: true }), null, 'Shift+Enter is a new line');
  assert.equal(k('Enter', { isComposing: true }, { composer: true }), null, 'an IME composition is not sent');
  assert.equal(k('Escape', {}, { composer: true }), 'queue');
  assert.equal(k('n', { altKey: true, code: 'KeyN' }, { composer: true }), 'note');
  assert.equal(k('\u00f1', { altKey: true, code: 'KeyN' }), 'note', 'Alt shortcuts go by key position (macOS types a symbol)');
  assert.equal(k('2', { altKey: true, code: 'Digit2' }), 'suggest:2');
  assert.equal(k('r', { altKey: true, code: 'KeyR' }), 'resolve');
  assert.equal(k('b', { altKey: true, code: 'KeyB' }), 'handback');
  assert.equal(k('t', { altKey: true, code: 'KeyT' }), 'transfer');
  assert.equal(k('ArrowDown', { altKey: true, code: 'ArrowDown' }, { composer: true }), 'next-chat');
  assert.equal(k('r', { altKey: true, ctrlKey: true, code: 'KeyR' }), null, 'AltGr (Ctrl+Alt) is left to the keyboard');
  assert.equal(k('?'), 'help');
  assert.equal(k('Escape', {}, { help: true }), 'help');
  assert.equal(k('r'), 'reply');
  assert.equal(k('r', { ctrlKey: true }), null, 'browser shortcuts are untouched');
});

test('network text renders as the shared safe Markdown: formatting, safe links, no markup', () => {
  const { createDocument, serialize } = require('../test-support/fake-dom.js');
  const R = require('../src/render.js');
  const doc = createDocument();
  const html = (text) => serialize(R.renderMarkdown(text, doc, true));
  const good = html('Return within **30 days** at [orders](https://shop.test/o) or `RET-1`');
  assert.match(good, /<strong>30 days<\/strong>/);
  assert.match(good, /<a [^>]*href="https:\/\/shop.test\/o"[^>]*>orders<\/a>/);
  assert.match(good, /<code>RET-1<\/code>/);
  const bad = html('[x](javascript:alert(1)) <img src=x onerror=alert(1)>');
  assert.doesNotMatch(bad, /<a |<img/, 'no element comes out of a javascript: link or a tag');
  assert.match(bad, /javascript:alert\(1\)/);
});

test('signal values read as words, percentages and flags', () => {
  assert.deepEqual(C.signalValue('pct', 0.734), { text: '73%', tone: '', bar: 0.734 });
  assert.equal(C.signalValue('mood', -0.62).text, 'very negative (-0.62)');
  assert.equal(C.signalValue('mood', 0.3).text, 'positive (+0.30)');
  assert.equal(C.signalValue('bool', true).text, 'yes');
  assert.equal(C.signalValue('topic', { name: 'billing', urgency: 2 }).text, 'billing');
  assert.equal(C.signalValue('pct', null).text, '\u2014');
});

test('a chat ends for this agent on hand-back, resolve, transfer, or another agent taking it', () => {
  const me = { id: 'dev' };
  assert.equal(C.endedBy('agent', { id: 'dev' }, me), null);
  assert.equal(C.endedBy('agent', null, me), null);
  assert.equal(C.endedBy('agent', { id: 'ana' }, me), 'transferred');
  assert.equal(C.endedBy('bot', null, me), 'handed_back');
  assert.equal(C.endedBy('resolved', null, me), 'resolved');
  assert.equal(C.endedBy('queued', null, me), 'transferred');
});

// ---- alerts: permission flow ----

function fakeNotification(permission, answer) {
  const shown = [];
  function N(title, opts) { this.title = title; this.opts = opts; shown.push(this); }
  N.permission = permission;
  N.asked = 0;
  N.requestPermission = () => { N.asked++; N.permission = answer; return Promise.resolve(answer); };
  N.shown = shown;
  return N;
}

function fakeAudio() {
  const log = [];
  const param = { setValueAtTime: (v) => log.push(['set', v]), exponentialRampToValueAtTime: (v) => log.push(['ramp', v]) };
  function A() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
  A.prototype.createOscillator = () => ({ frequency: param, connect() {}, start: () => log.push(['start']), stop() {} });
  A.prototype.createGain = () => ({ gain: param, connect() {} });
  A.log = log;
  return A;
}

const item = { conversation_id: 'c9', reason: 'negative_sentiment', summary: 'Parcel lost, wants a refund', site: 'demo' };

test('alerts stay silent until the agent turns them on', () => {
  const N = fakeNotification('default', 'granted');
  const A = fakeAudio();
  const alerts = new C.Alerts({ Notification: N, AudioContext: A, store: new P.Store('t:', memoryStorage()), isHidden: () => true });
  assert.equal(alerts.state(), 'off');
  alerts.announce(item);
  assert.equal(N.shown.length, 0);
  assert.equal(A.log.length, 0);
  assert.equal(N.asked, 0, 'no permission prompt without a click');
});

test('enabling asks for notification permission once; granted shows a notification while the page is hidden', async () => {
  const N = fakeNotification('default', 'granted');
  const A = fakeAudio();
  let hidden = false;
  const storage = memoryStorage();
  const alerts = new C.Alerts({ Notification: N, AudioContext: A, store: new P.Store('t:', storage), isHidden: () => hidden });
  assert.equal(await alerts.enable(), 'on');
  assert.equal(N.asked, 1);
  alerts.announce(item);
  assert.equal(N.shown.length, 0, 'no desktop notification while the agent is looking at the console');
  assert.ok(A.log.some((l) => l[0] === 'start'), 'the chime plays');
  hidden = true;
  let clicked = null;
  alerts.announce(item, (id) => { clicked = id; });
  assert.equal(N.shown.length, 1);
  assert.equal(N.shown[0].title, 'New chat: Upset visitor');
  assert.equal(N.shown[0].opts.body, 'Parcel lost, wants a refund');
  assert.equal(N.shown[0].opts.tag, 'baton-c9');
  N.shown[0].onclick();
  assert.equal(clicked, 'c9');
  // Remembered for the session: a reload keeps alerts on without asking again.
  const again = new C.Alerts({ Notification: N, AudioContext: A, store: new P.Store('t:', storage) });
  assert.equal(again.state(), 'on');
  again.disable();
  assert.equal(again.state(), 'off');
});

test('a denied permission leaves the chime on and says so; no Notification API works too', async () => {
  const N = fakeNotification('default', 'denied');
  const A = fakeAudio();
  const alerts = new C.Alerts({ Notification: N, AudioContext: A, store: new P.Store('t:', memoryStorage()), isHidden: () => true });
  assert.equal(await alerts.enable(), 'sound-only');
  alerts.announce(item);
  assert.equal(N.shown.length, 0);
  assert.ok(A.log.some((l) => l[0] === 'start'));
  const bare = new C.Alerts({ store: new P.Store('u:', memoryStorage()) });
  assert.equal(await bare.enable(), 'sound-only');
  bare.announce(item); // neither API: nothing throws
  // Old Safari: requestPermission takes a callback and returns undefined.
  const old = fakeNotification('default', 'granted');
  old.requestPermission = (cb) => { old.permission = 'granted'; cb('granted'); };
  assert.equal(await new C.Alerts({ Notification: old, store: new P.Store('v:', memoryStorage()) }).enable(), 'on');
});

// ---- what the server serves ----

test('the served console.js parses as one classic script and defines BatonConsole', () => {
  const { bundle } = require('../test-support/helpers.js');
  const sandbox = {};
  vm.runInNewContext(bundle('console'), sandbox, { filename: 'console.js' });
  assert.equal(typeof sandbox.BatonProtocol.Client, 'function');
  assert.equal(typeof sandbox.BatonConsole.Desk, 'function');
});

test('index.html loads exactly the console stylesheet and script, relative to /console/', () => {
  const html = fs.readFileSync(path.join(__dirname, '../console/index.html'), 'utf8');
  assert.match(html, /<link rel="stylesheet" href="console\.css">/);
  assert.match(html, /<script defer src="console\.js"><\/script>/);
  assert.match(html, /id="baton-console"/);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from another origin');
});

test('bot Markdown: a single newline is a space, paragraphs and list lines stay', () => {
  assert.equal(C.softBreaks('refunded only if\nit was faulty.\n\nNext para\n- one\n- two\n1. first'),
    'refunded only if it was faulty.\n\nNext para\n- one\n- two\n1. first');
  assert.equal(C.softBreaks(null), '');
});
