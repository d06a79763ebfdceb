'use strict';
// The console's page (View) on the small fake DOM (test-support/fake-dom.js) with a fake
// WebSocket: what the agent sees and what clicks and keys send. Layout is covered by tests/e2e.
const test = require('node:test');
const assert = require('node:assert/strict');
const P = require('../src/protocol.js');
const { createDocument, serialize, allElements } = require('../test-support/fake-dom.js');
const { load, FakeWebSocket, manualClock, memoryStorage } = require('../test-support/helpers.js');
const C = load('console');

const AT = '2025-01-01T10:00:00Z';
const NOW = Date.parse('2025-01-01T10:05:00Z');
const ME = { id: 'dev', name: 'Dev Agent', teams: ['support'], max_chats: 5 };

function mount() {
  FakeWebSocket.reset();
  const doc = createDocument();
  const clock = manualClock();
  const store = new P.Store('baton:console:', memoryStorage());
  const desk = new C.Desk({ url: 'ws://baton.test/v1/agent/ws', WebSocket: FakeWebSocket, clock, store, now: () => NOW });
  const view = new C.View(desk, { doc, clock, now: () => NOW }).mount(doc.body);
  const q = (sel) => doc.body.querySelector(sel);
  const qa = (sel) => doc.body.querySelectorAll(sel);
  const key = (key, target, extra = {}) => {
    const e = { key, code: extra.code || '', target: target || doc.body, altKey: false, ctrlKey: false, metaKey: false, shiftKey: false,
      defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...extra };
    view.key(e);
    return e;
  };
  return { doc, desk, view, q, qa, key, clock };
}

const ev = (cid, seq, body) => ({ seq, conversation_id: cid, at: AT, ...body });
const qitem = (id, extra = {}) => ({ conversation_id: id, site: 'demo', reason: 'explicit_request', priority: 0, waiting_since: AT,
  position: 1, summary: 'Summary of ' + id, sentiment: -0.6, last_message: { from: 'visitor', text: 'I want a person' }, ...extra });

function view(cid, events, extra = {}) {
  return {
    conversation_id: cid, site: 'demo', state: 'agent', visitor: { page: { url: 'https://shop.test/cart', title: 'Cart' }, locale: 'en-GB' },
    reason: 'negative_sentiment', summary: 'Parcel late, visitor upset.', signals: { sentiment: -0.62, escalation_score: 0.81, topic: { name: 'delivery' }, model_confidence: null, bot_declined: false, bot_errors: 0 },
    suggestions: ['I am sorry about the delay.', 'Let me check your order.'], canned: [{ title: 'Refund policy', text: 'Refunds take 5 days.' }],
    events: events || [
      ev(cid, 1, { type: 'message', id: 'm1', from: 'visitor', text: 'Where is my parcel?', client_id: 'v1' }),
      ev(cid, 2, { type: 'message', id: 'm2', from: 'bot', text: 'It ships in **2 days**.', author: { name: 'Nori' } }),
      ev(cid, 3, { type: 'state', state: 'queued', reason: 'negative_sentiment' }),
      ev(cid, 4, { type: 'state', state: 'agent', agent: { id: 'dev', name: 'Dev Agent' } })
    ],
    ...extra
  };
}

function signIn(ui, readyExtra = {}) {
  ui.view.token.value = 'demo-agent-token';
  ui.view.signin.dispatch('submit');
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [], ...readyExtra });
  return ws;
}

test('signed out, only the sign-in form shows; submitting it connects and clears the field', () => {
  const ui = mount();
  assert.equal(ui.view.signin.hidden, false);
  assert.equal(ui.view.work.hidden, true);
  assert.equal(ui.doc.activeElement, ui.view.token);
  assert.equal(ui.view.token.getAttribute('type'), 'password');
  assert.equal(ui.view.signin.getAttribute('method'), 'post', 'even without the script the token never goes into a URL');
  const ws = signIn(ui);
  assert.deepEqual(ws.sent[0], { type: 'auth', token: 'demo-agent-token', status: 'online' });
  assert.equal(ui.view.token.value, '');
  assert.equal(ui.view.signin.hidden, true);
  assert.equal(ui.view.work.hidden, false);
  assert.equal(ui.q('.agent-name').textContent, 'Dev Agent');
  assert.equal(ui.q('.conn').textContent, 'Connected');
  ws.drop(4001);
  assert.equal(ui.view.signin.hidden, false);
  assert.match(ui.q('.signin-error').textContent, /not accepted/);
});

test('each queue item shows the reason chip, the ticking wait, the mood, the summary and the last message', () => {
  const ui = mount();
  signIn(ui, { queue: [qitem('q1', { last_message: 'I want a person' }), qitem('q2', { position: 2, reason: 'topic', sentiment: 0.5, waiting_since: '2025-01-01T10:04:30Z', team: 'billing' })] });
  const items = ui.qa('.qitem');
  assert.equal(items.length, 2);
  assert.equal(ui.view.queueCount.textContent, '2');
  const first = items[0];
  assert.equal(first.querySelector('.chip').textContent, 'Asked for a person');
  assert.ok(first.querySelector('.chip').classList.contains('tone-blue'));
  assert.equal(first.querySelector('.wait').textContent, '5m 00s');
  assert.ok(first.querySelector('.wait').classList.contains('late'));
  assert.equal(first.querySelector('.mood').textContent, 'very negative');
  assert.equal(first.querySelector('.qsummary').textContent, 'Summary of q1');
  assert.equal(first.querySelector('.qlast').textContent, 'visitor: I want a person');
  assert.equal(first.getAttribute('aria-selected'), 'true');
  assert.equal(items[1].querySelector('.chip').textContent, 'Sensitive topic');
  assert.equal(items[1].querySelector('.wait').textContent, '30s');
  assert.equal(items[1].querySelector('.site').textContent, 'demo \u00b7 billing');
  assert.equal(ui.view.queueList.getAttribute('aria-activedescendant'), 'q-q1');
});

test('the waiting time ticks without rebuilding the item', () => {
  const ui = mount();
  let now = NOW;
  ui.view.now = () => now;
  signIn(ui, { queue: [qitem('q1')] });
  const el = ui.q('.qitem');
  now += 65000;
  ui.view.tick();
  assert.equal(ui.q('.qitem'), el);
  assert.equal(el.querySelector('.wait').textContent, '6m 05s');
});

test('from the keyboard: j moves the selection, Enter on the queue takes the chat', () => {
  const ui = mount();
  const ws = signIn(ui, { queue: [qitem('q1'), qitem('q2', { position: 2 })] });
  const e = ui.key('j');
  assert.equal(e.defaultPrevented, true);
  assert.equal(ui.desk.selected, 'q2');
  assert.equal(ui.doc.activeElement, ui.view.queueList, 'j focuses the queue, so Enter takes');
  assert.equal(ui.qa('.qitem')[1].getAttribute('aria-selected'), 'true');
  ui.key('Enter', ui.view.queueList);
  assert.deepEqual(ws.sent.at(-1), { type: 'accept', conversation_id: 'q2' });
  assert.match(ui.qa('.qitem')[1].querySelector('.take').textContent, /Taking/);
  const typed = ui.key('j', ui.view.input);
  assert.equal(typed.defaultPrevented, false, 'letters typed in the composer are not shortcuts');
});

test('a taken chat shows the transcript, the reason, signals, summary, suggestions and canned responses', () => {
  const ui = mount();
  const ws = signIn(ui, { queue: [qitem('c1')] });
  ui.desk.take('c1');
  ws.receive({ type: 'assigned', conversation: view('c1', null, { detail: 'sentiment -0.62 below -0.5 after 2 turns' }) });
  assert.equal(ui.view.chatBody.hidden, false);
  assert.equal(ui.q('.chat-title').textContent, 'Visitor C1');
  assert.equal(ui.q('.chat-meta').textContent, 'Upset visitordemo \u00b7 en-GB \u00b7 Cart');
  const t = ui.view.transcript;
  assert.deepEqual(t.querySelectorAll('.msg').map((m) => m.classList.contains('visitor') ? 'visitor' : m.classList.contains('bot') ? 'bot' : 'agent'), ['visitor', 'bot']);
  assert.equal(t.querySelectorAll('.sys').map((s) => s.textContent.split(' \u00b7 ')[0]).join('|'), 'Escalated: Upset visitor|Assigned to Dev Agent');
  assert.equal(t.querySelectorAll('.msg')[1].querySelector('strong').textContent, '2 days');
  const ctx = ui.view.context;
  assert.equal(ctx.querySelector('.why').querySelector('.chip').textContent, 'Upset visitor');
  assert.match(ctx.querySelector('.why').textContent, /turned negative/);
  assert.equal(ctx.querySelector('.detail').textContent, 'sentiment -0.62 below -0.5 after 2 turns', 'the values behind the reason');
  assert.equal(ctx.querySelector('.summary').querySelector('p').textContent, 'Parcel late, visitor upset.');
  const sig = Object.fromEntries(ctx.querySelectorAll('.sig').map((s) => [s.getAttribute('data-signal'), s.querySelector('.sig-val').textContent]));
  assert.deepEqual(sig, { sentiment: 'very negative (-0.62)', escalation_score: '81%', topic: 'delivery' });
  assert.equal(ctx.querySelectorAll('.sig').length, 3, 'unknown values and minor flags that are off are left out');
  const sugg = ctx.querySelectorAll('.suggestion');
  assert.equal(sugg.length, 2);
  sugg[1].click();
  assert.equal(ui.view.input.value, 'Let me check your order.', 'one click puts the suggestion in the composer');
  assert.equal(ui.doc.activeElement, ui.view.input);
  ui.key('1', ui.view.input, { altKey: true, code: 'Digit1' });
  assert.equal(ui.view.input.value, 'I am sorry about the delay.');
  ctx.querySelector('.canned').click();
  assert.equal(ui.view.input.value, 'I am sorry about the delay.Refunds take 5 days.', 'a canned response goes in at the caret');
  assert.equal(ui.q('.tabs').querySelectorAll('.tab').length, 1);
  assert.equal(ui.view.queueCount.textContent, '0');
});

test('Enter sends the reply; it shows as pending, then as the agent\u2019s message', () => {
  const ui = mount();
  const ws = signIn(ui, { conversations: [view('c1')] });
  ui.view.input.value = 'Your parcel is on its way.';
  ui.view.onInput();
  assert.deepEqual(ws.sent.at(-1), { type: 'typing', conversation_id: 'c1', on: true });
  const e = ui.key('Enter', ui.view.input);
  assert.equal(e.defaultPrevented, true);
  const sent = ws.sent.filter((f) => f.type === 'message');
  assert.equal(sent.length, 1);
  assert.equal(sent[0].text, 'Your parcel is on its way.');
  assert.equal(ui.view.input.value, '');
  const pending = ui.view.transcript.querySelector('.pending');
  assert.match(pending.textContent, /sending/);
  ws.receive(ev('c1', 5, { type: 'message', id: 'm5', from: 'agent', text: 'Your parcel is on its way.', client_id: sent[0].client_id, author: { name: 'Dev Agent' } }));
  assert.equal(ui.view.transcript.querySelector('.pending'), null);
  assert.match(ui.view.transcript.querySelector('.agent').textContent, /^Dev Agent/);
});

test('notes: Alt+N switches the composer to a yellow, labelled note mode; notes render with a lock and "Internal note"', () => {
  const ui = mount();
  const ws = signIn(ui, { conversations: [view('c1')] });
  ui.key('n', ui.view.input, { altKey: true, code: 'KeyN' });
  assert.ok(ui.view.composer.classList.contains('noting'));
  assert.equal(ui.view.noteHint.hidden, false);
  assert.match(ui.view.noteHint.textContent, /only agents see this/);
  assert.equal(ui.view.sendBtn.textContent, 'Add note');
  assert.equal(ui.view.input.getAttribute('aria-label'), 'Internal note (agents only)');
  ui.view.input.value = 'Order #123 was delayed by the carrier';
  ui.view.onInput();
  assert.equal(ws.sent.filter((f) => f.type === 'typing').length, 0, 'writing a note does not tell the visitor someone is typing');
  ui.view.composer.dispatch('submit');
  assert.deepEqual(ws.sent.at(-1), { type: 'note', conversation_id: 'c1', text: 'Order #123 was delayed by the carrier' });
  ws.receive(ev('c1', 5, { type: 'note', text: 'Order #123 was delayed by the carrier', author: { name: 'Dev Agent' } }));
  const note = ui.view.transcript.querySelector('.note');
  assert.ok(note);
  assert.equal(note.classList.contains('msg'), false, 'a note never looks like a message bubble');
  assert.match(note.textContent, /^Internal note · Dev Agent · \d\d:\d\d · not shown to the visitor/);
  assert.ok(allElements(note).some((el) => el.tagName === 'SVG'), 'with a lock icon');
  ui.key('n', ui.view.input, { altKey: true, code: 'KeyN' });
  assert.equal(ui.view.composer.classList.contains('noting'), false);
});

test('text from the network is inserted as text, never as HTML', () => {
  const ui = mount();
  const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script> [x](javascript:alert(3))';
  signIn(ui, {
    queue: [qitem('q1', { summary: evil, last_message: evil })],
    conversations: [view('c1', [ev('c1', 1, { type: 'message', id: 'm1', from: 'visitor', text: evil }), ev('c1', 2, { type: 'note', text: evil, author: { name: '<b>x</b>' } })],
      { summary: evil, suggestions: [evil], canned: [{ title: evil, text: evil }], visitor: { name: evil } })]
  });
  const tags = new Set(allElements(ui.doc.body).map((el) => el.tagName));
  for (const bad of ['IMG', 'SCRIPT', 'B']) assert.equal(tags.has(bad), false, bad + ' came from network text');
  assert.equal(allElements(ui.doc.body).filter((el) => el.tagName === 'A' && /^javascript:/i.test(el.getAttribute('href') || '')).length, 0);
  assert.match(serialize(ui.view.transcript), /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
});

test('the title counts unread chats and messages while the agent is away from the page', () => {
  const ui = mount();
  const ws = signIn(ui, { queue: [qitem('q1')], conversations: [view('c1'), view('c2')] });
  assert.equal(ui.doc.title, 'Baton console');
  ui.desk.setVisible(false);
  ws.receive({ type: 'queue_snapshot', items: [qitem('q1'), qitem('q9', { position: 2 })] });
  ws.receive(ev('c2', 5, { type: 'message', id: 'm5', from: 'visitor', text: 'hi?' }));
  assert.equal(ui.doc.title, '(2) Baton console');
  assert.ok(ui.qa('.qitem')[1].classList.contains('fresh'));
  assert.equal(ui.q('.badge').textContent, '1');
  ui.desk.setVisible(true);
  assert.equal(ui.doc.title, '(1) Baton console', 'the queue is seen; the other chat still has an unread message');
  ui.key('ArrowDown', ui.view.input, { altKey: true, code: 'ArrowDown' });
  assert.equal(ui.desk.active, 'c2');
  assert.equal(ui.doc.title, 'Baton console');
});

test('an ended chat says why, hides its actions and closes with Alt+W', () => {
  const ui = mount();
  const ws = signIn(ui, { conversations: [view('c1'), view('c2')] });
  ui.key('b', ui.view.input, { altKey: true, code: 'KeyB' });
  assert.deepEqual(ws.sent.at(-1), { type: 'handback', conversation_id: 'c1' });
  assert.match(ui.view.banner.textContent, /Handing back/);
  ws.receive(ev('c1', 5, { type: 'state', state: 'bot' }));
  assert.match(ui.view.banner.textContent, /^Handed back to the bot/);
  assert.equal(ui.view.actions.hidden, true);
  assert.equal(ui.view.closeBtn.hidden, false);
  assert.equal(ui.view.input.disabled, true);
  assert.match(ui.view.transcript.textContent, /Handed back to the bot/);
  ui.key('w', ui.doc.body, { altKey: true, code: 'KeyW' });
  assert.deepEqual(ui.desk.order, ['c2']);
  assert.equal(ui.desk.active, 'c2');
  ui.key('t', ui.view.input, { altKey: true, code: 'KeyT' });
  assert.equal(ui.view.transferForm.hidden, false);
  assert.deepEqual(ws.sent.at(-1), { type: 'roster', conversation_id: 'c2' }, 'the form asks who can take the chat');
  ws.receive({ type: 'roster', agents: [{ id: 'bo', name: 'Bo', teams: ['billing'], presence: 'away', chats: 0, max_chats: 2, free: 0 }],
    teams: [{ team: 'billing', online: 0, free: 0 }] });
  assert.match(ui.view.transferTo.textContent, /Bo \(billing\) · away/);
  assert.match(ui.view.transferTo.textContent, /Team billing · nobody online/);
  ui.view.transferTo.value = 'team:billing';
  ui.view.transferNote.value = 'Wants a refund';
  ui.view.transferForm.dispatch('submit');
  assert.deepEqual(ws.sent.at(-1), { type: 'transfer', conversation_id: 'c2', to: { team: 'billing' }, note: 'Wants a refund' });
});

test('offline: a banner says replies wait for the connection, and the pending bubble says so too', () => {
  const ui = mount();
  const ws = signIn(ui, { conversations: [view('c1')] });
  ws.drop(1006);
  assert.equal(ui.q('.conn').textContent, 'Offline: reconnecting\u2026');
  assert.match(ui.view.banner.textContent, /Offline/);
  ui.view.input.value = 'still here';
  ui.key('Enter', ui.view.input, { ctrlKey: true });
  assert.match(ui.view.transcript.querySelector('.pending').textContent, /waiting for the connection/);
});

/** q1 waiting, previewed, then taken with Enter; the socket drops before `assigned` comes. */
function takenAsTheSocketDrops() {
  const ui = mount();
  const ws = signIn(ui, { queue: [qitem('q1')] });
  ui.desk.preview('q1');
  const waiting = view('q1', view('q1').events.slice(0, 3), { state: 'queued' });
  ws.receive({ type: 'preview', conversation: waiting });
  assert.equal(ui.view.composer.hidden, true, 'a preview takes no replies');
  ui.key('Enter', ui.view.queueList);
  assert.deepEqual(ws.sent.at(-1), { type: 'accept', conversation_id: 'q1' });
  ws.drop(1006);
  return ui;
}

test('a chat taken as the socket drops (its assigned lost with it) opens for a reply that waits, sent once the ready lists it', () => {
  const ui = takenAsTheSocketDrops();
  assert.equal(ui.view.composer.hidden, false, 'not stuck in the read-only preview until a reconnect');
  assert.doesNotMatch(ui.view.chatTitle.textContent, /Preview/);
  assert.equal(ui.view.transcript.querySelectorAll('.msg').length, 2, 'the transcript the preview showed');
  assert.match(ui.view.banner.textContent, /Offline/);
  ui.view.input.value = 'On it, one moment.';
  ui.key('Enter', ui.view.input, { ctrlKey: true });
  ui.clock.fire();
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [view('q1')] });
  assert.deepEqual(ws.types(), ['auth', 'message']);
  assert.equal(ws.sent[1].text, 'On it, one moment.');
  assert.equal(ui.desk.chats.q1.ended, null);
});

test('a chat taken as the socket drops that the next ready does not list ends as no longer yours, its reply unsent', () => {
  const ui = takenAsTheSocketDrops();
  ui.view.input.value = 'On it, one moment.';
  ui.key('Enter', ui.view.input, { ctrlKey: true });
  ui.clock.fire();
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'ready', agent: ME, queue: [], conversations: [] });
  assert.deepEqual(ws.types(), ['auth']);
  assert.equal(ui.desk.chats.q1.ended, 'gone');
  assert.match(ui.view.banner.textContent, /No longer yours/);
});

test('the shortcut sheet opens with ? and closes with Escape', () => {
  const ui = mount();
  signIn(ui);
  ui.key('?');
  assert.equal(ui.view.help.hidden, false);
  assert.match(ui.view.help.textContent, /Alt\+N/);
  ui.key('Escape');
  assert.equal(ui.view.help.hidden, true);
});

test('messages left for the team show in the sidebar with a mailto link', () => {
  const ui = mount();
  assert.equal(ui.view.leftBox.hidden, true);
  signIn(ui, { left_messages: [{ conversation_id: 'l1', site: 'demo', email: 'ana@shop.test', text: 'Please call me back', at: AT }] });
  assert.equal(ui.view.leftBox.hidden, false);
  const item = ui.q('.left-item');
  assert.equal(item.querySelector('a').getAttribute('href'), 'mailto:ana@shop.test');
  assert.equal(item.querySelector('.left-text').textContent, 'Please call me back');
});

test('attachment events show as a thumbnail or a link with the chat\'s read token; a rating shows in the context', () => {
  const ui = mount();
  const grant = { token: '9999.abc', expires_at: AT, max_bytes: 1024, types: ['image/png', 'text/plain'] };
  const events = [
    ev('c1', 1, { type: 'attachment', id: 'f1', from: 'visitor', name: 'lamp.png', size: 2048, content_type: 'image/png' }),
    ev('c1', 2, { type: 'attachment', id: 'f2', from: 'agent', name: 'guide.txt', size: 12, content_type: 'text/plain', author: { name: 'Dev Agent' } })
  ];
  const ws = signIn(ui, { conversations: [view('c1', events, { attachments: grant })] });
  const img = ui.view.transcript.querySelector('.thumb').querySelector('img');
  assert.equal(img.getAttribute('src'), '/v1/attachments/demo/c1/f1?t=9999.abc&name=lamp.png');
  const link = ui.view.transcript.querySelector('.msg.file.agent').querySelector('a');
  assert.equal(link.textContent, 'guide.txt \u00b7 12 B');
  assert.equal(ui.view.clipBtn.hidden, false, 'the paperclip shows once the view grants files');
  assert.equal(ui.view.contextBody.querySelector('.rating'), null);
  ws.receive({ type: 'rated', conversation_id: 'c1', rating: { score: 5, comment: 'Lovely', at: AT } });
  assert.match(ui.view.contextBody.querySelector('.rating').textContent, /5 \/ 5 Great.*Lovely/);
});
