// The console's honest handoff, in Chromium against the real server: the transfer form lists
// agents and teams with presence and free capacity and carries a note for the next agent; the
// visitor is told who continues; a left message shows whether its email is sent yet.
// node --test tests/e2e/console-handoff.test.mjs (needs target/debug/baton and /usr/bin/chromium).
// Screenshots: /tmp/shots-h15b/console-*.png at 1440, 1024, 760 and 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, connectVisitor, connectAgent, configWithAgents, freePort } from './support.mjs';
import { WIDTHS } from './ux.mjs';

const SHOTS = process.env.SHOTS_DIR || '/tmp/shots-h15b';
const DEV = 'dev-test-token';
let baton, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([
    { id: 'dev', name: 'Dev Agent', token: DEV, teams: ['support'], max_chats: 5 },
    { id: 'ana', name: 'Ana Agent', token: 'ana-token', teams: ['billing'], max_chats: 3 },
    { id: 'bo', name: 'Bo Agent', token: 'bo-token', teams: ['billing'], max_chats: 3 }
  ], { handoff: { routing: 'manual' } });
  // Email on, towards a port where no mail server listens: every email stays "not yet sent".
  const env = {
    BATON_CONFIG: config.dir,
    BATON__EMAIL__SMTP_HOST: '127.0.0.1',
    BATON__EMAIL__SMTP_PORT: String(await freePort()),
    BATON__EMAIL__SECURITY: 'none',
    BATON__EMAIL__RETRY_FIRST_SECS: '1',
    BATON__EMAIL__RETRY_MAX_SECS: '1',
    BATON__EMAIL__OUTBOX_POLL_MS: '100'
  };
  baton = await startBaton({ env });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  config?.remove();
});

async function shots(page, name) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    await page.waitForTimeout(50); // a frame for the layout
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png` });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

async function escalated(text) {
  const v = await connectVisitor(baton.url);
  v.send({ type: 'message', client_id: 'v-' + Math.random().toString(36).slice(2), text });
  v.send({ type: 'request_human' });
  await v.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  return v;
}

async function openConsole() {
  const ctx = await browser.agent();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(DEV);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  return { ctx, page, errors };
}

test('a left message shows its email as not yet sent while the mail server is down', async () => {
  const visitor = await escalated('I need an invoice copy for order 1042');
  await visitor.next((f) => f.type === 'message' && (f.actions || []).some((a) => a.id === 'leave_message'));
  visitor.send({ type: 'leave_message', email: 'lea@example.com', text: 'Please send the invoice for order 1042' });
  await visitor.next((f) => f.type === 'message' && f.from === 'system' && /lea@example\.com/.test(f.text));
  // Wait for the first failed attempt, so the console shows the try count.
  for (let i = 0; ; i++) {
    const probe = await connectAgent(baton.url, 'bo-token');
    const mail = probe.ready.mail || [];
    probe.close();
    if (mail.some((m) => m.attempts >= 1)) break;
    assert.ok(i < 100, 'an attempt was made');
    await new Promise((r) => setTimeout(r, 100));
  }
  const { ctx, page, errors } = await openConsole();
  const item = page.locator('.left-item', { hasText: 'invoice for order 1042' });
  await item.waitFor();
  const line = await item.locator('.left-mail').textContent();
  assert.match(line, /Confirmation email not yet sent \(\d+ tr(y|ies)\)/);
  await shots(page, 'console-left-mail');
  assert.deepEqual(errors, []);
  visitor.close();
  await ctx.close();
});

test('the transfer form lists who can take the chat, carries a note, and the visitor is told who continues', async () => {
  const ana = await connectAgent(baton.url, 'ana-token');
  const bo = await connectAgent(baton.url, 'bo-token');
  bo.send({ type: 'status', status: 'away' });
  const { ctx, page, errors } = await openConsole();
  const visitor = await escalated('I was charged twice for my order');
  const queued = page.locator('.qitem', { hasText: 'charged twice' });
  await queued.waitFor();
  await queued.click();
  await page.keyboard.press('Enter');
  await visitor.next((f) => f.type === 'state' && f.state === 'agent');
  await page.locator('.chat-title').waitFor();

  await page.locator('.act-transfer').click();
  const select = page.getByLabel('Transfer to');
  await page.locator('.transfer-to option', { hasText: 'Ana Agent (billing)' }).waitFor({ state: 'attached' });
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => [o.textContent, o.disabled]));
  assert.deepEqual(options, [
    ['Ana Agent (billing) · 3 of 3 free', false],
    ['Bo Agent (billing) · away', true],
    ['Team billing · 3 free', false],
    ['Team support · 4 free', false]
  ]);
  await page.getByLabel('Note for the next agent').fill('Refund approved: the second charge of 42 EUR.');
  await shots(page, 'console-transfer-form');

  await select.selectOption('agent:ana');
  await page.locator('.transfer button[type=submit]').click();
  const assigned = await ana.next((f) => f.type === 'assigned');
  assert.ok(assigned.conversation.events.some((e) => e.type === 'note' && /42 EUR/.test(e.text)), 'the note travels');
  const told = await visitor.next((f) => f.type === 'message' && f.from === 'system' && /continue/.test(f.text));
  assert.equal(told.text, 'Ana Agent from billing will continue this chat with you.');
  assert.ok(!visitor.frames.some((f) => f.type === 'note'), 'the note is for agents only');
  await page.locator('.banner', { hasText: /Transferred|no longer yours/i }).waitFor().catch(() => {});
  await shots(page, 'console-transferred');
  assert.deepEqual(errors, []);
  for (const s of [ana, bo, visitor]) s.close();
  await ctx.close();
});

test('an agent who must answer in time sees a countdown, gone once they write', async () => {
  const { ctx, page, errors } = await openConsole();
  const visitor = await escalated('Where is my refund?');
  const queued = page.locator('.qitem', { hasText: 'refund' });
  await queued.waitFor();
  await queued.click();
  await page.keyboard.press('Enter');
  await visitor.next((f) => f.type === 'state' && f.state === 'agent');
  const countdown = page.locator('.chat-head .countdown');
  await countdown.waitFor();
  assert.match(await countdown.textContent(), /^Answer within [23]:\d\d$/, 'answer_timeout_secs is 180');
  await shots(page, 'console-countdown');
  await page.locator('.composer textarea').fill('Hello, let me check your refund.');
  await page.locator('.composer textarea').press('Enter');
  await visitor.next((f) => f.type === 'message' && f.from === 'agent');
  await countdown.waitFor({ state: 'hidden' });
  assert.deepEqual(errors, []);
  visitor.close();
  await ctx.close();
});
