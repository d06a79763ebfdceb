// The agent console against the real server, in Chromium, with visitors as plain WebSocket
// clients: node --test tests/e2e/ (from widget-js/: npm run e2e). Needs target/debug/baton
// (cargo build) and /usr/bin/chromium. Screenshots: /tmp/baton-shots/console-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, connectVisitor, configWithAgents, SHOTS } from './support.mjs';
import { shoot } from './ux.mjs';

const TOKEN = 'demo-agent-token';
const ANA_TOKEN = 'ana-test-token';
const CANNED = [
  { title: 'Trace opened', text: 'I have opened a trace with the carrier; you will hear from us within 24 hours.' },
  { title: 'Anything else?', text: 'Is there anything else I can help you with today?' }
];

let baton, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([
    { id: 'dev', name: 'Dev Agent', token: TOKEN, teams: ['support'], max_chats: 5 },
    { id: 'ana', name: 'Ana Agent', token: ANA_TOKEN, teams: ['support', 'billing'], max_chats: 5 }
  ], { handoff: { routing: 'manual', canned: CANNED } }); // manual: agents pick from the queue, the flow under test
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  config?.remove();
});

/** The console's pieces, by role and name where it has them. */
function consolePage(page) {
  return {
    token: page.getByLabel('Agent token'),
    queue: page.getByRole('listbox', { name: /Queue/ }),
    item: (text) => page.locator('.qitem', { hasText: text }),
    composer: page.locator('.composer textarea'),
    transcript: page.getByRole('log', { name: 'Transcript' }),
    title: page.locator('.chat-title'),
    why: page.locator('.context .why'),
    summary: page.locator('.context .summary p'),
    async signIn(token = TOKEN) {
      await this.token.fill(token);
      await this.token.press('Enter');
    }
  };
}

async function openConsole(token = TOKEN) {
  const ctx = await browser.agent();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  const c = consolePage(page);
  await c.signIn(token);
  return { ctx, page, errors, c };
}

/** A visitor who says something, then presses "talk to a person"; resolves once queued. */
async function escalatedVisitor(text) {
  const v = await connectVisitor(baton.url);
  v.send({ type: 'message', client_id: 'v-' + Math.random().toString(36).slice(2), text });
  v.send({ type: 'request_human' });
  await v.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  return v;
}

test('an agent signs in, takes an escalated chat, replies, writes a note, hands it back and resolves another', async () => {
  const { ctx, page, errors, c } = await openConsole();
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  await page.locator('.agent-name', { hasText: 'Dev Agent' }).waitFor();
  assert.doesNotMatch(page.url(), new RegExp(TOKEN), 'the token never goes into the URL');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('baton:console:token')), JSON.stringify(TOKEN));
  assert.equal(await page.evaluate(() => localStorage.getItem('baton:console:token')), null, 'kept for the session only');

  // Two visitors ask for a person; both chats arrive in the queue live, with their reason.
  const alice = await escalatedVisitor('My parcel is two weeks late and the tracking has not moved. How long does shipping take? This is terrible.');
  await c.item('Asked for a person').first().waitFor();
  const bob = await escalatedVisitor('I need to change the address on my order please');
  await page.locator('.qitem').nth(1).waitFor();
  assert.equal(await page.locator('.qitem').count(), 2);
  const first = page.locator('.qitem').first();
  assert.match(await first.locator('.wait').textContent(), /^\d+s$/, 'the waiting time shows and ticks');
  assert.equal(await page.locator('.queue-box .count').textContent(), '2');
  await page.waitForTimeout(1100); // let the wait timers tick once for the screenshot
  await page.screenshot({ path: `${SHOTS}/console-queue.png` });

  // Take Alice's chat from the keyboard: select it, Enter.
  await first.click();
  await page.keyboard.press('Enter');
  const joined = await alice.next((f) => f.type === 'state' && f.state === 'agent');
  assert.equal(joined.agent.name, 'Dev Agent');
  await c.title.waitFor();
  assert.equal(await c.why.locator('.chip').textContent(), 'Asked for a person');
  assert.match(await c.why.textContent(), /asked to talk to a person/);
  const summary = (await c.summary.textContent()).trim();
  assert.ok(summary.length > 0, 'a summary is shown');
  await c.transcript.locator('.msg.visitor', { hasText: 'two weeks late' }).waitFor();
  await c.transcript.locator('.sys', { hasText: 'Dev Agent joined' }).waitFor();
  assert.equal(await page.locator('.qitem').count(), 1, 'a taken chat leaves the queue');

  // A reply the visitor receives.
  await c.composer.fill('Hi, I am Dev. I am sorry about the delay: let me look at your order.');
  await c.composer.press('Enter');
  const reply = await alice.next((f) => f.type === 'message' && f.from === 'agent');
  assert.equal(reply.text, 'Hi, I am Dev. I am sorry about the delay: let me look at your order.');
  assert.equal(reply.author.name, 'Dev Agent');
  await c.transcript.locator('.msg.agent:not(.pending)', { hasText: 'let me look at your order' }).waitFor();

  // A note the visitor never receives: Alt+N, then a later reply proves the note was not sent before it.
  await c.composer.press('Alt+KeyN');
  await page.locator('.composer.noting').waitFor();
  await c.composer.fill('Carrier tracking shows the parcel stuck at the depot since Monday.');
  await c.composer.press('Control+Enter');
  const note = c.transcript.locator('.note:not(.pending)', { hasText: 'stuck at the depot' });
  await note.waitFor();
  assert.match(await note.textContent(), /Internal note/);
  await c.composer.press('Alt+KeyN');
  // The visitor asks again; drafts for the agent follow live (`suggestions`: knowledge-base
  // passages with the offline bot), and one click puts a draft in the composer.
  alice.send({ type: 'message', client_id: 'v-ship', text: 'How long does delivery to Germany take?' });
  await c.transcript.locator('.msg.visitor', { hasText: 'delivery to Germany' }).waitFor();
  const suggestion = page.locator('.context .suggestion').first();
  await suggestion.waitFor({ timeout: 15000 });
  await suggestion.click();
  assert.equal(await c.composer.inputValue(), (await suggestion.locator('span').textContent()));
  // A canned response from the site's configuration replaces nothing but goes in at the caret.
  await c.composer.fill('');
  await page.locator('.context .canned', { hasText: 'Trace opened' }).click();
  assert.equal(await c.composer.inputValue(), CANNED[0].text);
  await c.composer.press('Enter');
  await alice.next((f) => f.type === 'message' && f.from === 'agent' && /trace with the carrier/.test(f.text));
  assert.ok(!alice.frames.some((f) => f.type === 'note' || JSON.stringify(f).includes('stuck at the depot')), 'the visitor never receives the note');
  await page.locator('.context').evaluate((el) => { el.scrollTop = 0; }); // the canned click scrolled it
  await page.screenshot({ path: `${SHOTS}/console-chat.png` });

  // Hand Alice back to the bot.
  await page.keyboard.press('Alt+KeyB');
  await alice.next((f) => f.type === 'state' && f.state === 'bot');
  await page.locator('.banner', { hasText: 'Handed back to the bot' }).waitFor();

  // Take Bob's chat and resolve it.
  await page.keyboard.press('Alt+KeyQ');
  await page.locator('.qitem.selected').waitFor();
  await page.keyboard.press('Enter');
  await bob.next((f) => f.type === 'state' && f.state === 'agent');
  await c.title.filter({ hasText: /Visitor/ }).waitFor();
  await c.transcript.locator('.msg.visitor', { hasText: 'change the address' }).waitFor();
  await page.keyboard.press('Alt+KeyR');
  await bob.next((f) => f.type === 'state' && f.state === 'resolved');
  await bob.next((f) => f.type === 'csat_request');
  await page.locator('.banner', { hasText: 'Resolved' }).waitFor();
  await page.screenshot({ path: `${SHOTS}/console-resolved.png` });

  assert.deepEqual(errors, []);
  alice.close();
  bob.close();
  await ctx.close();
});

test('a reply typed while the console is offline is sent once when the socket returns', async () => {
  const { ctx, page, errors, c } = await openConsole();
  const carol = await escalatedVisitor('Hello, can a person help me with a refund?');
  await c.item('help me with a refund').click();
  await page.keyboard.press('Enter');
  await carol.next((f) => f.type === 'state' && f.state === 'agent');
  await c.title.waitFor();

  // Offline: new sockets fail; the open one is dropped the way a network loss drops it.
  await ctx.setOffline(true);
  await page.evaluate(() => window.BatonConsole.desk.client.ws.close());
  await page.locator('.conn', { hasText: 'Offline' }).waitFor();
  await c.composer.fill('Sent while offline: your refund is on its way.');
  await c.composer.press('Enter');
  await c.transcript.locator('.msg.agent.pending', { hasText: 'Sent while offline' }).waitFor();
  await page.waitForTimeout(700); // a reconnect attempt or two fail meanwhile
  await ctx.setOffline(false);
  await page.locator('.conn', { hasText: 'Connected' }).waitFor({ timeout: 10000 });
  const got = await carol.next((f) => f.type === 'message' && f.from === 'agent' && /Sent while offline/.test(f.text));
  await c.transcript.locator('.msg.agent:not(.pending)', { hasText: 'Sent while offline' }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(carol.frames.filter((f) => f.type === 'message' && f.id === got.id).length, 1);
  assert.equal(carol.frames.filter((f) => f.type === 'message' && /Sent while offline/.test(f.text || '')).length, 1, 'sent once');
  assert.equal(await c.transcript.locator('.msg', { hasText: 'Sent while offline' }).count(), 1, 'shown once');
  assert.equal(await c.transcript.locator('.msg.visitor', { hasText: 'refund' }).count(), 1, 'the resumed transcript has no duplicates');
  assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(e)), []);
  carol.close();
  await ctx.close();
});

test('a chat taken from its preview just as the connection drops opens for the reply, sent when the socket returns', async () => {
  const { ctx, page, errors, c } = await openConsole();
  const dora = await escalatedVisitor('Hello, a person please: my parcel never came');
  await c.item('my parcel never came').click();
  await c.title.filter({ hasText: 'Preview' }).waitFor();
  // The take goes out and the socket closes in the same moment: the server takes the chat, and
  // its `assigned` frame is lost with the socket (the race that once left the composer hidden).
  // New sockets fail meanwhile, as offline, so no reconnect brings the chat back first.
  await page.evaluate(() => {
    const { desk } = window.BatonConsole;
    window.onlineSocket = desk.client.WS;
    desk.client.WS = function () { throw new Error('offline'); };
    desk.take();
    desk.client.ws.close();
  });
  await dora.next((f) => f.type === 'state' && f.state === 'agent');
  await page.locator('.conn', { hasText: 'Offline' }).waitFor();
  await c.composer.fill('Taken as the line dropped: I am on it.', { timeout: 5000 });
  await c.composer.press('Enter');
  await c.transcript.locator('.msg.agent.pending', { hasText: 'I am on it' }).waitFor();
  await shoot(page, 'console-taken-as-offline');
  await page.evaluate(() => { window.BatonConsole.desk.client.WS = window.onlineSocket; });
  await dora.next((f) => f.type === 'message' && f.from === 'agent' && /I am on it/.test(f.text));
  await c.transcript.locator('.msg.agent:not(.pending)', { hasText: 'I am on it' }).waitFor();
  assert.deepEqual(errors.filter((e) => !/WebSocket/.test(e)), []);
  dora.close();
  await ctx.close();
});

test('a second agent sees the queue change live, and a wrong token is refused', async () => {
  const ana = await openConsole(ANA_TOKEN);
  await ana.page.locator('.agent-name', { hasText: 'Ana Agent' }).waitFor();
  const dev = await openConsole();
  await dev.page.locator('.conn', { hasText: 'Connected' }).waitFor();
  const dan = await escalatedVisitor('Please let me talk to someone about my invoice');
  await ana.c.item('about my invoice').waitFor();
  await dev.c.item('about my invoice').waitFor();
  const before = await ana.page.locator('.qitem').count();
  await dev.c.item('about my invoice').click();
  await dev.page.keyboard.press('Enter');
  await dan.next((f) => f.type === 'state' && f.state === 'agent');
  await ana.page.waitForFunction((n) => document.querySelectorAll('.qitem').length === n - 1, before);
  await dev.page.keyboard.press('Alt+KeyR');
  await dan.next((f) => f.type === 'state' && f.state === 'resolved');

  const wrong = await openConsole('not-a-token');
  await wrong.page.locator('.signin-error', { hasText: 'not accepted' }).waitFor();
  assert.equal(await wrong.page.evaluate(() => sessionStorage.getItem('baton:console:token')), null);
  assert.deepEqual(ana.errors, []);
  dan.close();
  for (const s of [ana, dev, wrong]) await s.ctx.close();
});
