'use strict';
// The widget's frame handlers and visitor actions, on a small fake DOM (test-support/fake-dom.js)
// with a fake WebSocket. Layout, CSS isolation and real sockets are covered by tests/e2e.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load, FakeWebSocket } = require('../test-support/helpers.js');
const W = load('widget'); // protocol.js and render.js first: globalThis.BatonProtocol, as served
const widgetUi = require('../test-support/widget-ui.js');

widgetUi.useWidgetGlobals();
const mount = (data) => widgetUi.mount(W, data);
const connect = widgetUi.connect;

const texts = (nodes) => nodes.map((n) => n.textContent);
const tick = () => new Promise((r) => setImmediate(r));

test('the launcher is there at once and the socket waits for the first open', () => {
  const ui = mount();
  const launcher = ui.q('.launcher');
  assert.equal(launcher.getAttribute('aria-label'), 'Open chat');
  assert.equal(launcher.getAttribute('aria-expanded'), 'false');
  assert.equal(ui.q('.panel').hidden, true);
  assert.equal(FakeWebSocket.all.length, 0);
  launcher.click();
  assert.equal(FakeWebSocket.all.length, 1);
  assert.equal(FakeWebSocket.last().url, 'wss://baton.test/v1/visitor/ws?site=demo');
  assert.equal(launcher.getAttribute('aria-label'), 'Close chat');
  assert.equal(ui.q('.panel').getAttribute('role'), 'dialog');
  assert.equal(ui.q('.input').getAttribute('aria-label'), 'Message');
});

test('site settings apply, data- attributes win, the welcome sets the AI notice', async () => {
  const ui = mount({ color: '#112233' });
  await tick();
  assert.equal(ui.q('.title').textContent, 'Northwind Goods');
  assert.equal(ui.q('.sub').textContent, 'Nori');
  assert.equal(ui.q('.root').style['--accent'], '#112233');
  assert.equal(ui.q('.intro').textContent, 'Hi there!');
  connect(ui);
  assert.equal(ui.q('.notice').textContent, 'You are talking to Nori, an AI.');
});

test('identify() reaches the hello, with the page and locale', () => {
  const ui = mount();
  ui.w.command('identify', { name: 'Ana', email: 'ana@example.com' });
  const ws = connect(ui);
  assert.deepEqual(ws.sent[0], { type: 'hello', last_seq: 0, locale: 'en', page: { url: 'https://shop.test/cart', title: 'Test page' }, visitor: { name: 'Ana', email: 'ana@example.com' } });
});

test('the server\'s word on the identity is shown: a check-marked name only when verified; identify() later sends a frame', () => {
  const ui = mount();
  ui.w.command('identify', { user_id: 'u1', name: 'Ana', user_hash: 'ab'.repeat(32) });
  const ws = connect(ui, { identity: 'unverified' });
  assert.equal(ui.visible(ui.q('.signed')), false, 'an unverified name is not shown as signed in');
  ws.receive({ type: 'identity', identity: 'verified' });
  assert.equal(ui.q('.signed').textContent, '\u2713 Ana');
  assert.ok(ui.visible(ui.q('.signed')));
  ui.w.command('identify', { user_id: 'u2', name: 'Bo' });
  assert.deepEqual(ws.sent[ws.sent.length - 1], { type: 'identify', visitor: { user_id: 'u2', name: 'Bo' } });
});

test('a verified visitor\'s history is shown above the conversation, as text, read-only', () => {
  const ui = mount();
  const ws = connect(ui, { identity: 'verified' });
  assert.equal(ui.visible(ui.q('.past')), false);
  ws.receive({ type: 'history', conversations: [{ conversation_id: 'old', started_at: '2025-01-01T10:00:00Z', state: 'resolved',
    messages: [{ from: 'visitor', text: '<b>my order</b>', at: '2025-01-01T10:00:00Z' }, { from: 'bot', text: 'It ships **today**.', at: '2025-01-01T10:00:01Z' }] }] });
  assert.ok(ui.visible(ui.q('.past')));
  const kids = [...ui.q('.past').childNodes];
  const of = (cls) => texts(kids.filter((n) => String(n.className).split(' ').includes(cls)));
  assert.deepEqual(of('visitor'), ['<b>my order</b>'], 'network text stays text');
  assert.deepEqual(of('bot'), ['It ships today.']);
  assert.equal(of('system').length, 1, 'dated');
});

test('a sent message is pending until acked, and its own event does not duplicate it', () => {
  const ui = mount();
  const ws = connect(ui);
  ui.q('.input').value = 'Where is my order?';
  ui.q('.send').click();
  const sent = ws.sent.find((f) => f.type === 'message');
  assert.equal(sent.text, 'Where is my order?');
  assert.equal(ui.qa('.msg.visitor.pending').length, 1);
  ws.receive({ type: 'ack', client_id: sent.client_id, seq: 1 });
  ws.event({ type: 'message', id: 'm1', from: 'visitor', text: 'Where is my order?', client_id: sent.client_id });
  assert.deepEqual(texts(ui.qa('.msg.visitor')), ['Where is my order?']);
  assert.equal(ui.qa('.pending').length, 0);
  assert.equal(ui.q('.input').value, '');
});

test('a streamed reply grows in one bubble; the final message completes it with sources and quick replies', () => {
  const ui = mount();
  const ws = connect(ui);
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r1', text: 'You can return ' });
  assert.equal(ui.q('.msg.bot.streaming').textContent, 'You can return ');
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r1', text: 'within **30 days**.' });
  assert.equal(ui.qa('.msg.bot').length - 1, 1); // minus the intro
  ws.event({ type: 'message', id: 'r1', from: 'bot', author: { name: 'Nori' }, text: 'You can return within **30 days**.',
    sources: [{ title: 'Returns', url: 'https://northwind.example/help/returns' }, { title: 'Bad', url: 'javascript:alert(1)' }],
    actions: [{ id: 'start_return', label: 'Start a return' }] });
  const bubbles = ui.qa('.msg.bot').filter((b) => !b.classList.contains('intro'));
  assert.equal(bubbles.length, 1);
  assert.equal(bubbles[0].classList.contains('streaming'), false);
  assert.equal(bubbles[0].querySelector('strong').textContent, '30 days');
  const links = bubbles[0].querySelectorAll('a');
  assert.deepEqual(links.map((a) => a.getAttribute('href')), ['https://northwind.example/help/returns']);
  assert.match(ui.q('.sr').textContent, /^Nori: You can return/); // announced in the live region
  const action = ui.q('.actions').childNodes[0];
  assert.equal(action.textContent, 'Start a return');
  action.click();
  assert.deepEqual(ws.sent.at(-1), { type: 'action', id: 'start_return' });
  assert.equal(ui.q('.actions'), null);
});

test('bot_cancelled ends a stream', () => {
  const ui = mount();
  const ws = connect(ui);
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r9', text: 'Let me che' });
  ws.receive({ type: 'bot_cancelled', conversation_id: 'c1', reply_id: 'r9' });
  assert.equal(ui.qa('.streaming').length, 0);
  assert.equal(ui.qa('.msg.bot.stopped').length, 1);
  ws.receive({ type: 'bot_delta', conversation_id: 'c1', reply_id: 'r10', text: 'New' });
  assert.equal(ui.qa('.streaming').length, 1);
});

test('queue frames show position and wait; an agent joining is announced by name', () => {
  const ui = mount();
  const ws = connect(ui);
  ui.q('.link').click(); // "Talk to a person"
  assert.deepEqual(ws.sent.at(-1), { type: 'request_human' });
  ws.event({ type: 'state', state: 'queued', reason: 'explicit_request' });
  ws.receive({ type: 'queue', conversation_id: 'c1', position: 2, eta_seconds: 150 });
  // One compact line under the transcript; "waiting" is said once, in the header.
  assert.equal(ui.visible(ui.q('.qline')), true);
  assert.equal(ui.q('.qline').textContent, 'You are number 2 in line. Estimated wait: about 3 min.');
  assert.equal(texts(ui.qa('.system')).filter((t) => /Waiting/.test(t)).length, 0);
  assert.equal(ui.q('.sub').textContent, 'Waiting for a person to join…');
  assert.equal(ui.visible(ui.qa('.link')[0]), false);
  ws.receive({ type: 'queue', conversation_id: 'c1', position: 1, eta_seconds: null });
  assert.equal(ui.q('.qline').textContent, 'You are number 1 in line.');
  ws.receive({ type: 'typing', conversation_id: 'c1', from: 'agent', on: true });
  ws.event({ type: 'state', state: 'agent', agent: { id: 'a1', name: 'Maria' } });
  assert.equal(ui.visible(ui.q('.qline')), false);
  // Assigned is not joined: the header still waits, and the server says when the person takes the chat.
  assert.equal(ui.q('.sub').textContent, 'Waiting for a person to join…');
  assert.equal(ui.q('.notice').hidden, true);
  assert.equal(texts(ui.qa('.system')).filter((t) => /joined/.test(t)).length, 0);
  ws.event({ type: 'message', id: 'm4', from: 'system', text: 'Maria joined the chat.', notice: 'agent_joined' });
  assert.ok(texts(ui.qa('.system')).includes('Maria joined the chat.'));
  assert.equal(ui.q('.sub').textContent, 'Chatting with Maria');
  ws.receive({ type: 'typing', conversation_id: 'c1', from: 'agent', on: true });
  assert.equal(ui.q('.typing').textContent, 'Maria is typing…');
  ws.event({ type: 'message', id: 'm5', from: 'agent', author: { name: 'Maria' }, text: 'Hi, I can help.\nWhat is your order number?', client_id: 'agent-1' });
  assert.equal(ui.q('.typing').hidden, true);
  // The speaker: initials, name and the group's time; no "AI" label on a person.
  assert.equal(ui.qa('.who-agent').length, 1);
  assert.match(ui.q('.who-agent').textContent, /^MMaria/);
  assert.equal(ui.q('.who-agent').querySelectorAll('.ai').length, 0);
  assert.equal(ui.q('.msg.agent').querySelectorAll('br').length, 1); // agents' line breaks are kept
  ws.event({ type: 'state', state: 'bot' });
  assert.equal(texts(ui.qa('.system')).filter((t) => /back with/.test(t)).length, 0, 'the server says it, once');
  assert.equal(ui.visible(ui.qa('.link')[0]), true);
});

test('nobody available: one line says so, its "Leave a message" reply opens the form, which sends leave_message', () => {
  const offer = { id: 'leave_message', label: 'Leave a message' };
  for (const [trigger, pick] of [
    [(ws) => ws.event({ type: 'message', id: 'm0', from: 'system', text: 'Nobody can take the chat now.', actions: [offer], notice: 'no_agents' }), true],
    [(ws) => ws.event({ type: 'message', id: 'm1', from: 'system', text: 'No agent is available right now.' }), false]
  ]) {
    const ui = mount();
    const ws = connect(ui);
    trigger(ws);
    if (pick) {
      assert.equal(ui.q('.leave'), null, 'the notice and its reply, no form until the visitor picks it');
      // The visitor writes meanwhile: the reply stays (it is not an answer to the latest message only).
      ws.event({ type: 'message', id: 'm2', from: 'bot', text: 'I can still help with questions.' });
      assert.equal(ui.qa('.actions.leave-chip').length, 1);
      ui.q('.leave-chip').querySelector('button').click();
      assert.equal(ui.qa('.actions.leave-chip').length, 0, 'the reply makes way for its form');
    }
    const card = ui.q('.leave');
    assert.equal(ui.visible(card), true);
    assert.equal(card.parentNode, ui.q('.log'), 'the form lives in the transcript');
    assert.doesNotMatch(card.textContent, /Nobody is available/, 'the notice above said it: one line');
    assert.equal(texts(ui.qa('.system')).length, 1);
    const [email, text] = card.querySelectorAll('.field');
    email.value = 'ana@example.com';
    text.value = 'Please call me back';
    card.querySelector('form').dispatch('submit');
    assert.deepEqual(ws.sent.at(-1), { type: 'leave_message', email: 'ana@example.com', text: 'Please call me back' });
    // The server's notice thanks the visitor; the form goes, and stays gone for this chat.
    assert.equal(card.parentNode, null);
    trigger(ws);
    assert.equal(ui.q('.leave'), null);
    assert.equal(ui.qa('.leave-chip').length, 0, 'nor its reply');
  }
});

test('a bot action waiting for confirmation shows its summary; Confirm or Cancel answers it once, and another tab\'s answer closes it', () => {
  const ui = mount();
  const ws = connect(ui);
  ws.receive({ type: 'confirm_action', conversation_id: 'c1', call_id: 'k1', action: 'refund', summary: 'Refund 20 € on <b>A-1</b>' });
  const card = ui.q('.card.act');
  assert.equal(card.parentNode, ui.q('.log'), 'the card lives in the transcript');
  assert.equal(card.querySelector('p').textContent, 'Refund 20 € on <b>A-1</b>', 'the summary is text, never markup');
  const [confirm, cancel] = card.querySelectorAll('button');
  assert.deepEqual([confirm.textContent, cancel.textContent], ['Confirm', 'Cancel']);
  assert.equal(ws.sent.filter((f) => f.type === 'action_answer').length, 0, 'nothing is answered before a press');
  cancel.click();
  assert.deepEqual(ws.sent.at(-1), { type: 'action_answer', call_id: 'k1', confirmed: false });
  assert.equal(card.parentNode, null);

  ws.receive({ type: 'confirm_action', conversation_id: 'c1', call_id: 'k2', action: 'refund', summary: 'Refund again' });
  ui.q('.card.act').querySelectorAll('button')[0].click();
  assert.deepEqual(ws.sent.at(-1), { type: 'action_answer', call_id: 'k2', confirmed: true });

  ws.receive({ type: 'confirm_action', conversation_id: 'c1', call_id: 'k3', action: 'refund', summary: 'Elsewhere' });
  ws.receive({ type: 'action_answered', conversation_id: 'c1', call_id: 'k3', confirmed: true });
  assert.equal(ui.q('.card.act'), null, 'answered on another tab: the card goes');
});

test('error unavailable (the store failed a moment): the visitor is told, the message and the request for a person go again until the store answers', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ui = mount();
  const ws = connect(ui);
  ui.q('.input').value = 'Where is my order?';
  ui.q('.send').click();
  ui.qa('.link')[0].click();
  const message = ws.sent.find((f) => f.type === 'message');
  assert.ok(ws.sent.some((f) => f.type === 'request_human'));
  const failed = () => ws.receive({ type: 'error', code: 'unavailable', message: 'temporarily unavailable; send it again' });
  failed();
  failed();
  assert.equal(ui.q('.leave'), null, 'not the "nobody is available" form');
  assert.equal(ui.visible(ui.q('.banner')), true);
  assert.equal(ui.q('.banner').textContent, 'We are having trouble. Retrying…');
  assert.equal(ui.qa('.msg.visitor.pending').length, 1, 'the message is kept, pending');
  const resent = () => {
    const before = ws.sent.length;
    t.mock.timers.tick(5000);
    return ws.sent.slice(before);
  };
  assert.deepEqual(resent(), [message, { type: 'request_human' }], 'the same client_id: the server stores it once');
  failed();
  assert.deepEqual(resent().map((f) => f.type), ['message', 'request_human'], 'still failing: again, later');
  ws.receive({ type: 'ack', client_id: message.client_id, seq: 1 });
  ws.event({ type: 'message', id: 'm1', from: 'visitor', text: message.text, client_id: message.client_id });
  ws.event({ type: 'state', state: 'queued', reason: 'explicit_request' });
  assert.equal(ui.visible(ui.q('.banner')), false, 'the store answers: the line goes');
  assert.equal(ui.qa('.pending').length, 0);
  assert.deepEqual(resent(), [], 'nothing is left to send');
});

test('the rating prompt sends csat; ending the chat offers a new one', () => {
  const ui = mount();
  const ws = connect(ui);
  const end = ui.qa('.link')[1];
  assert.equal(end.hidden, true, '"End chat" waits until the visitor has written');
  ui.q('.input').value = 'Hello';
  ui.q('.compose').dispatch('submit');
  assert.equal(end.hidden, false);
  end.click(); // "End chat" asks first
  assert.equal(ws.sent.at(-1).type, 'message');
  assert.equal(ui.visible(ui.q('.confirm')), true);
  ui.q('.yes').click();
  assert.deepEqual(ws.sent.at(-1), { type: 'end' });
  ws.event({ type: 'state', state: 'resolved' });
  ws.receive({ type: 'csat_request', conversation_id: 'c1' }); // the visitor ended it: asked once
  assert.equal(ui.qa('.csat').length, 1);
  const card = ui.q('.csat');
  const stars = card.querySelector('.stars').childNodes;
  assert.deepEqual(stars.map((b) => b.querySelector('small').textContent + b.querySelector('.sr').textContent), ['Terrible 1 out of 5', 'Bad 2 out of 5', 'OK 3 out of 5', 'Good 4 out of 5', 'Great 5 out of 5']);
  stars[3].click();
  card.querySelector('textarea').value = 'Quick and kind';
  card.querySelector('form').dispatch('submit');
  assert.deepEqual(ws.sent.at(-1), { type: 'csat', score: 4, comment: 'Quick and kind' });
  assert.equal(card.textContent, 'Thanks for your feedback!');
  assert.equal(ui.q('.compose').hidden, true);
  ui.q('.primary').click(); // "Start a new chat"
  const fresh = FakeWebSocket.last();
  assert.notEqual(fresh, ws);
  fresh.open();
  assert.equal(fresh.sent[0].token, undefined);
  assert.equal(ui.q('.compose').hidden, false);
});

test('replies that arrive while the panel is closed show an unread badge', () => {
  const ui = mount();
  const ws = connect(ui);
  ui.w.close();
  ws.event({ type: 'message', id: 'm1', from: 'bot', text: 'One' });
  ws.event({ type: 'message', id: 'm2', from: 'agent', author: { name: 'Maria' }, text: 'Two' });
  const badge = ui.q('.badge');
  assert.equal(badge.hidden, false);
  assert.equal(badge.textContent, '2');
  assert.equal(ui.q('.launcher').getAttribute('aria-description'), '2 unread messages');
  ui.w.open();
  assert.equal(badge.hidden, true);
});

test('text from the network is never markup', () => {
  const ui = mount();
  const ws = connect(ui);
  const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  ws.event({ type: 'message', id: 'm1', from: 'bot', text: evil, author: { name: '<b>Nori</b>' } });
  ws.event({ type: 'message', id: 'm2', from: 'visitor', text: evil, client_id: 'other-tab' });
  ws.event({ type: 'state', state: 'agent', agent: { id: 'x', name: '<i onmouseover=alert(3)>' } });
  const all = ui.shadow.all();
  assert.ok(all.every((el) => !['IMG', 'SCRIPT', 'B', 'I'].includes(el.tagName)));
  assert.ok(all.every((el) => Object.keys(el.attributes).every((a) => !a.startsWith('on'))));
  assert.ok(ui.shadow.textContent.includes(evil));
});

test('a hello-resumed page leaves the state the welcome announced after the replay', () => {
  const ui = mount();
  const ws = connect(ui, { state: 'agent', last_seq: 3 });
  ws.event({ type: 'message', id: 'm1', from: 'bot', text: 'Hi' });
  ws.event({ type: 'state', state: 'queued', reason: 'explicit_request' });
  ws.event({ type: 'state', state: 'agent', agent: { id: 'a', name: 'Maria' } });
  assert.equal(ui.q('.sub').textContent, 'Waiting for a person to join…');
  assert.deepEqual(ui.w.state, 'agent');
});

test('saysUnavailable recognises the server telling that no one can take the chat', () => {
  assert.equal(W.saysUnavailable({ type: 'error', code: 'unavailable' }), false, 'the store failing is not "no agent"');
  assert.equal(W.saysUnavailable({ type: 'error', code: 'rate_limited' }), false);
  assert.equal(W.saysUnavailable({ type: 'state', state: 'queued', available: false }), true);
  assert.equal(W.saysUnavailable({ type: 'message', from: 'system', text: 'Nobody from our team is online right now.' }), true);
  assert.equal(W.saysUnavailable({ type: 'message', from: 'system', text: 'Maria is available and will join.' }), false);
  assert.equal(W.saysUnavailable({ type: 'message', from: 'bot', text: 'No agents available' }), false);
});
