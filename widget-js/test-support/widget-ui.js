'use strict';
// The widget mounted on the fake DOM (fake-dom.js) with a fake WebSocket, for the unit tests:
// page globals for the test file (useWidgetGlobals), a mounted widget (mount), a conversation
// under way (connect).
const test = require('node:test');
const { FakeWebSocket } = require('./helpers.js');
const { createDocument } = require('./fake-dom.js');

/** Page globals (location, WebSocket, navigator, fetch) for the tests of one file. */
function useWidgetGlobals() {
  const saved = {};
  test.before(() => {
    for (const k of ['document', 'location', 'WebSocket', 'fetch', 'navigator']) saved[k] = Object.getOwnPropertyDescriptor(globalThis, k);
    const define = (k, value) => Object.defineProperty(globalThis, k, { value, configurable: true, writable: true });
    define('location', { href: 'https://shop.test/cart' });
    define('WebSocket', FakeWebSocket);
    define('navigator', { language: 'en-US', languages: ['en-US'] });
    define('fetch', async () => ({ ok: true, json: async () => ({ title: 'Northwind Goods', bot_name: 'Nori', color: '#2457d6', greeting: 'Hi there!' }) }));
  });
  test.after(() => {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
  });
}

/** A new page: a fresh document and socket list, the widget mounted, query helpers. */
function mount(W, data = {}) {
  FakeWebSocket.reset();
  globalThis.document = createDocument();
  const w = new W.Widget({ site: 'demo', origin: 'https://baton.test', data });
  w.mount();
  const shadow = document.body.childNodes[0].shadowRoot;
  const q = (sel) => shadow.querySelector(sel);
  const qa = (sel) => shadow.querySelectorAll(sel);
  const visible = (el) => { for (let n = el; n && n !== shadow; n = n.parentNode) if (n.hidden) return false; return true; };
  return { w, shadow, q, qa, visible };
}

/** Opens the panel and answers its hello; `ws.event(body)` then sends the next event. */
function connect(ui, welcome = {}) {
  ui.w.open();
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'welcome', conversation_id: 'c1', token: 'tok', state: 'bot', last_seq: 0, ai_notice: 'You are talking to Nori, an AI.', ...welcome });
  let seq = 0;
  ws.event = (body) => ws.receive({ seq: ++seq, conversation_id: 'c1', at: '2025-01-01T00:00:00Z', ...body });
  return ws;
}

module.exports = { useWidgetGlobals, mount, connect };
