// What the visitor is told at the moments of a handoff, in Chromium against the real server:
// a chat routed to an agent says "X joined" only once the agent opens it in the console; a
// hand-back and a resolve are the server's notices; a full queue says nobody can take the chat
// now, in one line, with the Leave a message reply that opens the form. Screenshots: $BATON_SHOTS/notices-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, startHostSite, launchBrowser, watchErrors, widget, configWithAgents, SHOTS } from './support.mjs';
import { shoot, assetsFromDisk } from './ux.mjs';

const DEV = 'dev-notices-token';
const JOINED = 'Dev Agent joined the chat.';
let routed, full, host, browser, configs;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const agents = [{ id: 'dev', name: 'Dev Agent', token: DEV, teams: ['support'], max_chats: 5 }];
  configs = [configWithAgents(agents, { handoff: { routing: 'least_busy' } }), configWithAgents(agents, { handoff: { max_queue: 0 } })];
  routed = await startBaton({ env: { BATON_CONFIG: configs[0].dir } });
  full = await startBaton({ env: { BATON_CONFIG: configs[1].dir } });
  const page = (url) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
    <body><main><h1>A customer's site</h1></main><script async src="${url}/widget.js" data-site="demo"></script></body></html>`;
  host = await startHostSite({ '/routed.html': page(routed.url), '/full.html': page(full.url) });
  const launched = await launchBrowser();
  browser = { ...launched, visitor: async (o) => { const ctx = await launched.visitor(o); await assetsFromDisk(ctx); return ctx; } };
});

after(async () => {
  await browser?.close();
  await routed?.stop();
  await full?.stop();
  await host?.close();
  configs?.forEach((c) => c.remove());
});

async function openWidget(path) {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + path);
  await page.locator('baton-widget .launcher').click();
  await page.locator('baton-widget .msg.bot:not(.intro)').first().waitFor();
  return { ctx, page, w: widget(page), errors };
}

async function openConsole(url) {
  const ctx = await browser.agent({ viewport: { width: 1440, height: 900 } });
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(url + '/console/');
  await page.getByLabel('Agent token').fill(DEV);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn-open').waitFor();
  return { ctx, page, errors };
}

const systemLines = (page, text) => page.locator('baton-widget .system', { hasText: text }).count();
const header = (page) => page.locator('baton-widget .sub').textContent();

test('a routed chat says joined when the agent opens it; hand-back and resolve are the server\'s words', async () => {
  const agent = await openConsole(routed.url);
  const visitor = await openWidget('/routed.html');
  try {
    await visitor.page.evaluate(() => {
      window.states = [];
      window.Baton('on', 'state', (s) => window.states.push(s.state));
    });
    await visitor.w.human.click();
    // Routing gives the chat to Dev: the console shows it; the widget has `state agent` but
    // Dev has not looked, so its header still says the visitor is waiting.
    await agent.page.locator('.transcript .sys', { hasText: 'Assigned to Dev Agent' }).waitFor({ timeout: 10000 });
    await visitor.page.waitForFunction(() => window.states.includes('agent'), null, { timeout: 10000 });
    assert.equal(await header(visitor.page), 'Waiting for a person to join…');
    assert.equal(await systemLines(visitor.page, 'joined the chat'), 0, 'Dev has not looked yet');
    await shoot(visitor.page, 'notices-routed-not-joined');
    // Dev goes to write in it: now the visitor is told, once, and the header says who is there.
    await agent.page.locator('.composer textarea').focus();
    await visitor.page.getByText(JOINED).waitFor({ timeout: 10000 });
    await visitor.page.locator('baton-widget .sub', { hasText: 'Chatting with Dev Agent' }).waitFor({ timeout: 10000 });
    await agent.page.locator('.composer textarea').blur();
    await agent.page.locator('.composer textarea').focus();
    await agent.page.locator('.composer textarea').fill('Hi, I am Dev.');
    await agent.page.locator('.composer textarea').press('Enter');
    await visitor.page.locator('baton-widget .msg.agent', { hasText: 'Hi, I am Dev.' }).waitFor();
    assert.equal(await systemLines(visitor.page, 'joined the chat'), 1);
    await shoot(visitor.page, 'notices-joined');

    await agent.page.getByRole('button', { name: /Hand back to bot/ }).click();
    await visitor.page.getByText('You are back with the assistant. Ask for a person again any time.').waitFor({ timeout: 10000 });
    assert.equal(await systemLines(visitor.page, 'back with the assistant'), 1, 'said once, by the server');
    await shoot(visitor.page, 'notices-handed-back');

    await visitor.w.human.click();
    await agent.page.locator('.tab[role="tab"]', { hasText: 'Asked for a person' }).click();
    await visitor.page.locator('baton-widget .system', { hasText: 'joined the chat' }).nth(1).waitFor({ timeout: 10000 });
    await agent.page.getByRole('button', { name: /Resolve/ }).click();
    await visitor.page.getByText('This chat has ended. Write again any time if you need more help.').waitFor({ timeout: 10000 });
    assert.equal(await systemLines(visitor.page, 'This chat has ended'), 1);
    await shoot(visitor.page, 'notices-resolved');
    assert.deepEqual(visitor.errors, []);
    assert.deepEqual(agent.errors, []);
  } finally {
    await visitor.ctx.close();
    await agent.ctx.close();
  }
});

test('a full queue says so in one line with its Leave a message reply, which opens the form', async () => {
  const visitor = await openWidget('/full.html');
  try {
    await visitor.w.human.click();
    await visitor.page.getByText('Our queue is full right now').waitFor({ timeout: 10000 });
    const leave = visitor.page.getByRole('button', { name: 'Leave a message' });
    await leave.waitFor();
    assert.equal(await systemLines(visitor.page, 'queue is full'), 1);
    assert.equal(await visitor.page.getByText(/Nobody is available/).count(), 0, 'one line, not the notice and a card saying it again');
    assert.equal(await visitor.page.getByRole('textbox', { name: 'Your email' }).count(), 0, 'the form waits for the visitor');
    await shoot(visitor.page, 'notices-queue-full');
    await leave.click();
    await visitor.page.getByRole('textbox', { name: 'Your email' }).waitFor();
    assert.equal(await leave.count(), 0, 'the reply made way for its form');
    assert.equal(await visitor.page.getByText(/Nobody is available/).count(), 0);
    await shoot(visitor.page, 'notices-queue-full-form');
    await visitor.page.getByRole('textbox', { name: 'Your email' }).fill('kim@example.com');
    await visitor.page.locator('baton-widget .leave textarea').fill('Please call me back');
    await visitor.page.getByRole('button', { name: 'Leave message' }).click();
    await visitor.page.getByText('your message is with our team').waitFor({ timeout: 10000 });
    assert.deepEqual(visitor.errors, []);
  } finally {
    await visitor.ctx.close();
  }
});
