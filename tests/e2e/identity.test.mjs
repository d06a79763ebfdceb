// Visitor identity in the browser (issue #15): the page's Baton('identify', …) with the hash
// its backend computed; the widget shows the server's word (a check-marked name when
// verified) and, on a new device, the visitor's earlier conversations; the console's visitor
// panel shows the identity with its verified or unverified mark and the previous
// conversations. Screenshots at 1440/1024/760/390 px: /tmp/baton-shots/identity-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { startBaton, startHostSite, launchBrowser, watchErrors, widget, configWithAgents, SHOTS } from './support.mjs';
import { shoot, axeViolations, assetsFromDisk, WIDTHS } from './ux.mjs';

const TOKEN = 'demo-agent-token';
// The demo site's development secret (config/sites/demo.toml): what the site's backend knows.
const SECRET = 'demo-identity-secret';
const hash = (userId, secret = SECRET) => createHmac('sha256', secret).update(userId).digest('hex');
let baton, browser, config, host;

function page(identity) {
  return `<!doctype html><html lang="en"><head><title>Account</title></head><body><h1>Your account</h1>
    <script>window.Baton=window.Baton||function(){(Baton.q=Baton.q||[]).push(arguments)};
      Baton('identify', ${JSON.stringify(identity)});
      Baton('on', 'identity', function (s) { window.__identity = s; });</script>
    <script async src="${baton.url}/widget.js" data-site="demo"></script></body></html>`;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Agent', token: TOKEN, teams: ['support'], max_chats: 5 }],
    { handoff: { routing: 'manual' } });
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  const ana = { user_id: 'user-42', name: 'Ana Lima', email: 'ana@example.com' };
  host = await startHostSite({
    '/signed.html': page({ ...ana, user_hash: hash('user-42') }),
    '/forged.html': page({ ...ana, user_hash: hash('user-42', 'a guess') })
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await host?.close();
  config?.remove();
});

/** A new device: a fresh browser context (no stored token), the widget opened. */
async function device(path) {
  const ctx = await browser.visitor();
  await assetsFromDisk(ctx);
  const p = await ctx.newPage();
  const errors = watchErrors(p);
  await p.goto(host.url + path);
  const w = widget(p);
  await w.launcher.click();
  await w.input.waitFor();
  await p.waitForFunction(() => window.__identity);
  return { ctx, page: p, w, errors };
}

test('a verified visitor is shown as signed in and, on another device, sees their earlier conversation', async () => {
  const first = await device('/signed.html');
  try {
    assert.equal(await first.page.evaluate(() => window.__identity), 'verified');
    await first.page.locator('baton-widget .signed', { hasText: '\u2713 Ana Lima' }).waitFor();
    await first.w.ask('Where is my order 1042?');
    await first.w.botBubbles.first().waitFor();
    assert.equal(await first.page.locator('baton-widget .past').isVisible(), false, 'nothing earlier on the first visit');
  } finally {
    await first.ctx.close();
  }
  const second = await device('/signed.html');
  try {
    const past = second.page.locator('baton-widget .past');
    await past.locator('.msg.visitor', { hasText: 'Where is my order 1042?' }).waitFor();
    assert.ok(await past.locator('.msg.bot').count() >= 1, 'the bot\'s answers are there too');
    await second.page.locator('baton-widget .signed', { hasText: 'Ana Lima' }).waitFor();
    await shoot(second.page, 'identity-widget-history');
    assert.deepEqual(await axeViolations(second.page), [], 'history');
    assert.deepEqual(second.errors, []);
  } finally {
    await second.ctx.close();
  }
});

test('a forged hash is unverified: no signed-in line and no one\'s history', async () => {
  const forged = await device('/forged.html');
  try {
    assert.equal(await forged.page.evaluate(() => window.__identity), 'unverified');
    assert.equal(await forged.page.locator('baton-widget .signed').isVisible(), false);
    assert.equal(await forged.page.locator('baton-widget .past').isVisible(), false);
    await shoot(forged.page, 'identity-widget-unverified');
    assert.deepEqual(forged.errors, []);
  } finally {
    await forged.ctx.close();
  }
});

async function openConsole() {
  const ctx = await browser.agent({ bypassCSP: true });
  await assetsFromDisk(ctx);
  const p = await ctx.newPage();
  const errors = watchErrors(p);
  await p.goto(baton.url + '/console/');
  await p.getByLabel('Agent token').fill(TOKEN);
  await p.getByLabel('Agent token').press('Enter');
  await p.locator('.conn-open').waitFor();
  return { ctx, page: p, errors };
}

/** Screenshots of the visitor panel at every width (in its drawer below 1,100 px). */
async function shootPanel(p, name) {
  for (const width of WIDTHS) {
    await p.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    if (width <= 1100) {
      await p.getByRole('button', { name: /Details/ }).click();
      await p.locator('.context.open .visitor').waitFor();
      await p.waitForFunction(() => getComputedStyle(document.querySelector('.context')).transform === 'none');
    }
    await p.locator('.context .visitor').scrollIntoViewIfNeeded();
    await p.screenshot({ path: `${SHOTS}/${name}-${width}.png` });
    if (width <= 1100) {
      await p.keyboard.press('Escape');
      await p.locator('.context').waitFor({ state: 'hidden' });
    }
  }
  await p.setViewportSize({ width: 1440, height: 900 });
}

test('the console shows the identity with its mark and the verified visitor\'s previous conversations', async () => {
  const visitor = await device('/signed.html');
  const forged = await device('/forged.html');
  const { ctx, page: p, errors } = await openConsole();
  try {
    // Both ask for a person in words: the chats go to the queue.
    await visitor.w.ask('I want to talk to a person about my refund');
    await forged.w.ask('Forged: I want to talk to a person too');
    await p.locator('.qitem', { hasText: 'refund' }).click();
    const panel = p.locator('.context .visitor');
    await panel.locator('.id-mark.verified').waitFor();
    const text = await panel.textContent();
    assert.match(text, /Ana Lima/);
    assert.match(text, /user-42/);
    await panel.locator('.previous li', { hasText: 'Where is my order 1042?' }).waitFor();
    assert.deepEqual(await axeViolations(p), [], 'verified visitor panel');
    await shootPanel(p, 'identity-console-verified');

    await p.locator('.qitem', { hasText: 'Forged' }).click();
    await panel.locator('.id-mark.unverified').waitFor();
    assert.equal(await panel.locator('.id-mark.verified').count(), 0, 'never shown as verified');
    assert.equal(await panel.locator('.previous').count(), 0, 'a claim alone shows no history');
    assert.deepEqual(await axeViolations(p), [], 'unverified visitor panel');
    await shootPanel(p, 'identity-console-unverified');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await visitor.ctx.close();
    await forged.ctx.close();
  }
});
