// A bot action that needs the visitor's confirmation (issue #18), in Chromium: the real
// `baton` binary with a refund action on the demo site, a scripted model that calls it, and
// a real local endpoint. The widget shows the action's summary with Confirm and Cancel;
// nothing is called before Confirm, Cancel calls nothing and the model says so, Confirm
// calls the endpoint once and the model answers from it. A lookup streams its progress line
// while its endpoint works.
// Screenshots: /tmp/baton-shots/action-confirm-*.png, action-done-*.png, action-progress-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, SHOTS, startBaton, startScriptedLlm, launchBrowser, watchErrors, widget } from './support.mjs';
import { shoot, axeEverywhere, assetsFromDisk } from './ux.mjs';

let endpoint, llm, baton, browser, config;
const calls = [];
/** The order lookup answers only once the test lets it (so its progress line can be seen). */
let releaseLookup;
const lookupReleased = new Promise((ok) => { releaseLookup = ok; });

/** The shop's backend: /refund records each call and answers that it refunded; /status
 *  answers an order's status once released. */
function startEndpoint() {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url === '/status') {
      await lookupReleased;
      return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped"}');
    }
    calls.push({ secret: req.headers['baton-action-secret'], body: JSON.parse(body || 'null') });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"refunded":true,"amount":20}');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${server.address().port}`, server })));
}

/** A copy of config/ whose demo site has the refund action, and http allowed for it. */
function configWithRefund(url) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-config-'));
  cpSync(join(REPO, 'config'), dir, { recursive: true });
  const site = join(dir, 'sites/demo.toml');
  writeFileSync(site, readFileSync(site, 'utf8') + `
[[actions]]
name = "refund"
description = "Refund an order, when the visitor asks for a refund."
endpoint = "${url}/refund"
secret = "e2e-action-secret"
confirm = true
summary = "Refund {amount} € on order {order_id}"
parameters = '{"type":"object","required":["order_id","amount"],"properties":{"order_id":{"type":"string"},"amount":{"type":"number"}}}'

[[actions]]
name = "order_status"
description = "Look up an order's status."
endpoint = "${url}/status"
secret = "e2e-action-secret"
progress = "Looking up your order…"
parameters = '{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string"}}}'
`);
  writeFileSync(join(dir, 'local.toml'), '[actions]\nallow_http = true\nallow_private_targets = true\n');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The model: calls the refund for a question, answers from the result once it has one. */
function script(request) {
  const last = request.messages[request.messages.length - 1];
  if (last.role === 'user' && /where/i.test(last.content)) return { tool: 'order_status', arguments: { order_id: 'A-1001' } };
  if (last.role !== 'tool') return { tool: 'refund', arguments: { order_id: 'A-1001', amount: 20 } };
  if (/shipped/.test(last.content)) return 'Order A-1001 has shipped.';
  return /Cancel/.test(last.content) ? 'All right, nothing was refunded.' : 'Done: 20 € are on their way back to you.';
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  endpoint = await startEndpoint();
  config = configWithRefund(endpoint.url);
  llm = await startScriptedLlm({ reply: script, delayMs: 20 });
  baton = await startBaton({ llm, env: { BATON_CONFIG: config.dir } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await llm?.close();
  endpoint?.server.close();
  config?.remove();
});

test('the confirmation card waits for the visitor: Cancel calls nothing, Confirm calls the endpoint once', async () => {
  const ctx = await browser.visitor();
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(`${baton.url}/`);
  const w = widget(page);
  await w.launcher.click();

  await w.ask('Please refund order A-1001.');
  const card = page.locator('baton-widget .card.act');
  await card.waitFor({ timeout: 15000 });
  assert.equal(await card.locator('p').textContent(), 'Refund 20 € on order A-1001');
  const confirm = page.getByRole('button', { name: 'Confirm', exact: true });
  const cancel = card.getByRole('button', { name: 'Cancel' });
  assert.ok(await confirm.isVisible() && await cancel.isVisible());
  assert.equal(calls.length, 0, 'nothing is called before Confirm');
  await shoot(page, 'action-confirm');
  assert.deepEqual(await axeEverywhere(page, 'confirmation card'), []);

  await cancel.click();
  await card.waitFor({ state: 'hidden' });
  await w.botBubbles.getByText('All right, nothing was refunded.').waitFor({ timeout: 15000 });
  assert.equal(calls.length, 0, 'Cancel calls nothing');

  await w.ask('Yes, please do refund it.');
  await card.waitFor({ timeout: 15000 });
  await confirm.click();
  await w.botBubbles.getByText('Done: 20 € are on their way back to you.').waitFor({ timeout: 15000 });
  assert.equal(await card.count(), 0, 'the card is gone once answered');
  assert.equal(calls.length, 1, 'Confirm calls the endpoint once');
  assert.equal(calls[0].secret, 'e2e-action-secret');
  assert.deepEqual(calls[0].body.arguments, { order_id: 'A-1001', amount: 20 });
  await shoot(page, 'action-done');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a lookup streams its progress line while the endpoint works, then the answer replaces it', async () => {
  const ctx = await browser.visitor();
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(`${baton.url}/`);
  const w = widget(page);
  await w.launcher.click();
  await w.ask('Where is my order A-1001?');
  const progress = page.locator('baton-widget .msg.bot.streaming em', { hasText: 'Looking up your order…' });
  await progress.waitFor({ timeout: 15000 });
  await shoot(page, 'action-progress');
  releaseLookup();
  await w.botBubbles.getByText('Order A-1001 has shipped.').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('baton-widget .msg.bot', { hasText: 'Looking up your order' }).count(), 0, 'the stored reply is the answer');
  assert.deepEqual(errors, []);
  await ctx.close();
});
