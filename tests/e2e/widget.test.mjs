// The visitor widget against the real server: node --test tests/e2e/ (from widget-js/: npm run e2e).
// Needs target/debug/baton (cargo build) and /usr/bin/chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { startBaton, startScriptedLlm, startHostSite, launchBrowser, watchErrors, widget, freePort, connectAgent, SHOTS } from './support.mjs';

const REPLY = 'You can return any item within **30 days** of delivery. Start a return from ' +
  '[your orders page](https://northwind.example/orders) and we email you a free label.';
const REPLY_TEXT = 'You can return any item within 30 days of delivery. Start a return from your orders page and we email you a free label.';

let llm, baton, host, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  llm = await startScriptedLlm({ reply: REPLY, delayMs: 60 });
  baton = await startBaton({ llm });
  const snippet = `<script async src="${baton.url}/widget.js" data-site="demo"></script>`;
  host = await startHostSite({
    '/plain.html': `<!doctype html><html><head><title>Host</title></head><body>
      <h1>A customer's site</h1><div class="msg" id="host-msg">host text</div><button id="host-btn">Buy</button>
      <script>window.Baton=window.Baton||function(){(Baton.q=Baton.q||[]).push(arguments)};
        Baton('on', 'open', function () { window.__opened = (window.__opened || 0) + 1; });
        Baton('identify', { name: 'Ana' });</script>
      ${snippet}</body></html>`,
    '/hostile.html': `<!doctype html><html><head><title>Hostile</title><style>
      * { all: unset !important; display: inline !important; font-size: 2px !important; line-height: 1px !important; }
      html, body { font: 2px/1px serif !important; color: red !important; letter-spacing: 9px !important; }
      div, section, button, textarea, form, p, span { position: static !important; width: 3px !important; height: 3px !important;
        opacity: .1 !important; visibility: hidden !important; transform: scale(.2) !important; margin: 40px !important; }
      baton-widget { display: none !important; opacity: 0 !important; }
      :root { --accent: red !important; --on: red !important; }
      </style></head><body><p>Hostile host page</p>${snippet}</body></html>`
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await llm?.close();
  await host?.close();
});

/** Records the text length of the streaming bubble at every DOM change inside the widget. */
async function recordStream(page) {
  await page.evaluate(() => {
    const root = document.querySelector('baton-widget').shadowRoot;
    window.__stream = [];
    new MutationObserver(() => {
      const s = root.querySelector('.msg.bot.streaming');
      if (s) window.__stream.push(s.textContent.length);
    }).observe(root, { subtree: true, childList: true, characterData: true });
  });
}

const finalReply = (page, text) => page.locator('baton-widget .msg.bot:not(.streaming):not(.intro)', { hasText: text });

test('a page with the snippet shows the launcher before any socket, and styles do not leak', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const sockets = [];
  const sent = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framesent', (f) => sent.push(JSON.parse(f.payload)));
  });
  await page.goto(host.url + '/plain.html');
  const w = widget(page);
  await w.launcher.waitFor();
  assert.deepEqual(sockets, [], 'the launcher must not wait for (or open) the socket');
  // The site's settings arrive over CORS: the title is the site's.
  await page.locator('baton-widget .title', { hasText: 'Northwind Goods' }).waitFor({ state: 'attached' });
  const hostMsg = await page.$eval('#host-msg', (el) => { const s = getComputedStyle(el); return [s.borderRadius, s.backgroundColor, s.maxWidth]; });
  assert.deepEqual(hostMsg, ['0px', 'rgba(0, 0, 0, 0)', 'none'], 'widget CSS leaked into the host page');
  await w.launcher.click();
  await w.input.waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'BATON-WIDGET');
  assert.equal(sockets.length, 1);
  assert.match(sockets[0], /\/v1\/visitor\/ws\?site=demo$/);
  // Calls queued by the inline stub before the script loaded were replayed.
  assert.equal(await page.evaluate(() => window.__opened), 1);
  while (!sent.length) await new Promise((r) => setTimeout(r, 20));
  assert.equal(sent[0].type, 'hello');
  assert.deepEqual(sent[0].visitor, { name: 'Ana' });
  await page.evaluate(() => window.Baton('close'));
  await w.launcher.waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the visitor asks and watches the reply stream in, token by token', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/');
  const w = widget(page);
  await w.launcher.click();
  await page.locator('baton-widget .msg.bot:not(.intro)', { hasText: "I'm Nori" }).first().waitFor();
  await recordStream(page);
  await w.ask('How do I return an item?');
  await page.locator('baton-widget .msg.visitor:not(.pending)', { hasText: 'How do I return an item?' }).waitFor();
  await finalReply(page, 'free label').waitFor({ timeout: 15000 });
  const lengths = await page.evaluate(() => [...new Set(window.__stream)]);
  assert.ok(lengths.length >= 3, `expected the reply to grow in steps, saw lengths ${JSON.stringify(lengths)}`);
  assert.ok(lengths.every((n, i) => i === 0 || n > lengths[i - 1]), 'the streamed text only grows');
  assert.ok(lengths.at(-1) <= REPLY_TEXT.length);
  const final = finalReply(page, 'free label');
  assert.equal((await final.first().locator('p').first().textContent()).trim(), REPLY_TEXT);
  assert.equal(await final.first().locator('a', { hasText: 'your orders page' }).getAttribute('href'), 'https://northwind.example/orders');
  assert.equal(await page.locator('baton-widget .msg.streaming').count(), 0);
  assert.ok(llm.requests.some((r) => r.stream === true), 'the bot called the scripted model with stream: true');
  await page.screenshot({ path: `${SHOTS}/desktop.png` });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a reload restores the conversation, each message once', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  await page.goto(baton.url + '/');
  const w = widget(page);
  await w.launcher.click();
  await w.ask('Can I return a lamp?');
  await finalReply(page, 'free label').waitFor({ timeout: 15000 });
  await page.reload();
  // The panel stays open across a reload in the same tab; history is replayed from seq 0.
  await finalReply(page, 'free label').waitFor({ timeout: 10000 });
  assert.equal(await w.visitorBubbles.filter({ hasText: 'Can I return a lamp?' }).count(), 1);
  assert.equal(await finalReply(page, 'free label').count(), 1);
  assert.equal(await page.locator('baton-widget .msg.bot:not(.intro)', { hasText: "I'm Nori" }).count(), 1);
  // A second tab of the same visitor follows the same conversation.
  const tab = await ctx.newPage();
  await tab.goto(baton.url + '/');
  await widget(tab).launcher.click().catch(() => {});
  await finalReply(tab, 'free label').waitFor({ timeout: 10000 });
  await widget(tab).ask('Thanks!');
  await page.locator('baton-widget .msg.visitor', { hasText: 'Thanks!' }).waitFor();
  assert.equal(await widget(page).visitorBubbles.filter({ hasText: 'Thanks!' }).count(), 1);
  await ctx.close();
});

test('a message typed while the server is down arrives once after it restarts', async () => {
  const port = await freePort();
  let server = await startBaton({ port }); // the offline knowledge-base bot
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  try {
    await page.goto(server.url + '/');
    const w = widget(page);
    await w.launcher.click();
    await w.ask('How long does shipping take?');
    await page.locator('baton-widget .msg.visitor:not(.pending)', { hasText: 'shipping' }).waitFor();
    await server.kill();
    await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ timeout: 5000 });
    await w.ask('Do you ship to Norway?');
    await page.locator('baton-widget .msg.visitor.pending', { hasText: 'Norway' }).waitFor();
    server = await startBaton({ port });
    const delivered = page.locator('baton-widget .msg.visitor:not(.pending)', { hasText: 'Norway' });
    await delivered.waitFor({ timeout: 15000 });
    // The bot answers it: the server got it.
    await page.waitForFunction(() => {
      const log = [...document.querySelector('baton-widget').shadowRoot.querySelector('.log').children];
      const i = log.findIndex((el) => el.textContent.includes('Norway'));
      return log.slice(i + 1).some((el) => el.matches('.msg.bot:not(.streaming)'));
    }, null, { timeout: 15000 });
    assert.equal(await widget(page).visitorBubbles.filter({ hasText: 'Norway' }).count(), 1);
    await page.reload();
    await page.locator('baton-widget .msg.visitor', { hasText: 'Norway' }).waitFor({ timeout: 10000 });
    assert.equal(await widget(page).visitorBubbles.filter({ hasText: 'Norway' }).count(), 1, 'stored once on the server');
  } finally {
    await ctx.close();
    await server.stop();
  }
});

test('aggressive host CSS cannot break the widget', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  await page.goto(host.url + '/hostile.html');
  const w = widget(page);
  await w.launcher.waitFor();
  const measure = (sel) => page.evaluate((s) => {
    const el = document.querySelector('baton-widget').shadowRoot.querySelector(s);
    const r = el.getBoundingClientRect();
    const c = getComputedStyle(el);
    return { w: Math.round(r.width), h: Math.round(r.height), x: Math.round(r.x), y: Math.round(r.y), font: c.fontSize, pos: c.position, vis: c.visibility, bg: c.backgroundColor };
  }, sel);
  const launcher = await measure('.launcher');
  assert.deepEqual([launcher.w, launcher.h, launcher.pos, launcher.vis], [56, 56, 'fixed', 'visible']);
  assert.deepEqual([launcher.x, launcher.y], [1280 - 20 - 56, 800 - 20 - 56]);
  await w.launcher.click();
  await w.input.waitFor();
  const panel = await measure('.panel');
  assert.deepEqual([panel.w, panel.pos], [380, 'fixed']);
  assert.ok(panel.h >= 500, `panel height ${panel.h}`);
  const input = await measure('.input');
  assert.equal(input.font, '15px');
  assert.ok(input.w > 200 && input.h >= 40, JSON.stringify(input));
  const send = await measure('.send');
  assert.equal(send.bg, 'rgb(36, 87, 214)', 'the accent is the site colour, not the page variable');
  await w.ask('How do I return an item?');
  await finalReply(page, 'free label').waitFor({ timeout: 15000 });
  const bubble = await measure('.msg.visitor');
  assert.equal(bubble.font, '15px');
  await page.screenshot({ path: `${SHOTS}/hostile.png` });
  await ctx.close();
});

test('on a phone the panel is full-screen', async () => {
  const ctx = await browser.visitor({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  await page.goto(baton.url + '/');
  const w = widget(page);
  await w.launcher.click();
  const box = await w.dialog.boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844]);
  assert.equal(await page.getByRole('button', { name: 'Open chat' }).isVisible(), false);
  await w.ask('How do I return an item?');
  await finalReply(page, 'free label').waitFor({ timeout: 15000 });
  await page.screenshot({ path: `${SHOTS}/phone.png` });
  await page.getByRole('button', { name: 'Close chat' }).click();
  await w.launcher.waitFor();
  assert.equal(await w.dialog.isVisible(), false);
  await ctx.close();
});

test('"Talk to a person" moves the chat to the queue', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  await page.goto(baton.url + '/');
  const w = widget(page);
  await w.launcher.click();
  await w.human.click();
  await page.locator('baton-widget .sub', { hasText: 'Waiting for a person' }).waitFor({ timeout: 10000 });
  assert.equal(await w.human.isVisible(), false);
  await page.screenshot({ path: `${SHOTS}/queued.png` });
  await ctx.close();
});

test('with nobody online the visitor leaves a message; when an agent comes, the widget shows them', async () => {
  const server = await startBaton({ port: await freePort() }); // its own server: only this chat waits
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  try {
    await page.goto(server.url + '/');
    const w = widget(page);
    await w.launcher.click();
    await w.human.click();
    // Nobody is online: the visitor is told at once and can leave a message.
    await page.getByRole('button', { name: 'Leave a message' }).click({ timeout: 10000 });
    const email = page.getByRole('textbox', { name: 'Your email' });
    await email.waitFor({ timeout: 10000 });
    await email.fill('ana@example.com');
    await page.locator('baton-widget .card textarea').fill('Please call me about order 1042');
    await page.locator('baton-widget .card').getByRole('button').first().click();
    await page.getByText('your message is with our team').waitFor({ timeout: 10000 });
    // An agent comes online: least-busy routing hands them the waiting chat.
    const agent = await connectAgent(server.url, 'demo-agent-token');
    assert.equal(agent.ready.left_messages[0].email, 'ana@example.com');
    const assigned = await agent.next((f) => f.type === 'assigned');
    // Routed to the agent is not joined: the visitor is told once the agent opens the chat.
    agent.send({ type: 'open', conversation_id: assigned.conversation.conversation_id });
    await page.getByText('Dev Agent joined the chat.').first().waitFor({ timeout: 10000 });
    agent.send({ type: 'message', conversation_id: assigned.conversation.conversation_id, client_id: 'a1', text: 'Hi, I am on it.' });
    await page.locator('baton-widget .msg.agent', { hasText: 'Hi, I am on it.' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${SHOTS}/agent-joined.png` });
    agent.close();
  } finally {
    await ctx.close();
    await server.kill();
  }
});

// The server sends /widget.js gzipped once at the best level.
test('the widget a visitor downloads is at most 30,000 bytes on the wire (widget-js/README.md#size)', async (t) => {
  const raw = await new Promise((ok, fail) => {
    http.get(baton.url + '/widget.js', { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => ok({ bytes: Buffer.concat(parts).length, encoding: res.headers['content-encoding'] }));
    }).on('error', fail);
  });
  t.diagnostic(`GET /widget.js on the wire: ${raw.bytes} bytes, content-encoding ${raw.encoding || 'none'}`);
  assert.equal(raw.encoding, 'gzip');
  assert.ok(raw.bytes <= 30000, `${raw.bytes} bytes on the wire`);
});
