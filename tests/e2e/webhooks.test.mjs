// The console's Webhooks page in Chromium against the real server: an admin sees each
// subscription of their sites with its deliveries (status, attempts, next retry, last
// error), redelivers one that was given up, and sees it delivered; an agent who is not an
// admin has no Webhooks button. The deliveries are real: a local receiver that fails, then
// takes them. node --test tests/e2e/webhooks.test.mjs (needs target/debug/baton and
// /usr/bin/chromium). Screenshots: /tmp/baton-shots/webhooks-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBaton, launchBrowser, watchErrors, connectVisitor, configWithAgents, BATON_BIN, SHOTS } from './support.mjs';
import { shoot, axeViolations } from './ux.mjs';

const TOKEN = 'webhooks-admin-token';
const AGENT_TOKEN = 'webhooks-agent-token';

let baton, browser, config, receiver, dataDir;

/** A webhook receiver on 127.0.0.1 that answers 500 while `failing`, else 204, and keeps what came. */
function startReceiver() {
  const state = { failing: true, received: [] };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const status = state.failing ? 500 : 204;
    state.received.push({ status, event: JSON.parse(body) });
    res.writeHead(status).end();
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => {
    ok({ state, url: `http://127.0.0.1:${server.address().port}/hooks`, close: () => server.close() });
  }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await startReceiver();
  config = configWithAgents([{ id: 'dev', name: 'Dev Admin', token: TOKEN, role: 'admin' },
    { id: 'bo', name: 'Bo Agent', token: AGENT_TOKEN }]);
  dataDir = mkdtempSync(join(tmpdir(), 'baton-webhooks-'));
  const env = {
    BATON_CONFIG: config.dir,
    BATON__ARCHIVE__URL: `sqlite://${dataDir}/baton.sqlite`,
    BATON__ARCHIVE__POLL_MS: '20',
    BATON__WEBHOOKS__POLL_MS: '20',
    // A failed delivery is given up at once: it waits for the Redeliver button.
    BATON__WEBHOOKS__RETRY_HOURS: '0',
    // The receiver is plain http on 127.0.0.1: the SSRF guard would refuse it.
    BATON__WEBHOOKS__ALLOW_HTTP: 'true',
    BATON__WEBHOOKS__ALLOW_PRIVATE_TARGETS: 'true'
  };
  baton = await startBaton({ env });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  receiver?.close();
  config?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** An owner API key for demo, made the way an operator makes one. */
function apiKey() {
  const out = execFileSync(BATON_BIN, ['keys', 'create', '--site', 'demo', '--scope', 'admin', '--name', 'e2e'], {
    env: { ...process.env, BATON_CONFIG: config.dir, BATON__ARCHIVE__URL: `sqlite://${dataDir}/baton.sqlite` }
  });
  return String(out).trim().split('\n').pop();
}

async function api(key, method, path, body) {
  const res = await fetch(baton.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function signIn(ctx, token) {
  const page = await ctx.newPage();
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(token);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  return page;
}

test('an admin reads each subscription\u2019s deliveries and redelivers a given-up one, which then arrives', async () => {
  const key = apiKey();
  const made = await api(key, 'POST', '/v1/api/webhooks', { site: 'demo', url: receiver.url, events: ['conversation.created', 'message.created'] });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const visitor = await connectVisitor(baton.url);
  visitor.send({ type: 'message', client_id: 'w1', text: 'Where is my parcel?' });
  await visitor.next((f) => f.type === 'message' && f.from === 'bot', 15000);
  // Every event of the conversation reaches the archive (and its delivery the log) over a
  // few archiver rounds: wait until the log holds them all given up and has stopped growing,
  // so the page below shows the same deliveries.
  let log = [];
  let steady = 0;
  for (let i = 0; i < 400 && steady < 10; i++) {
    const before = log.length;
    log = (await api(key, 'GET', `/v1/api/webhooks/${made.body.id}/deliveries`)).body.items;
    const settled = log.length >= 3 && log.every((d) => d.status === 'failed');
    steady = settled && log.length === before ? steady + 1 : 0;
    await sleep(50);
  }
  assert.ok(log.length >= 3 && log.every((d) => d.status === 'failed'), JSON.stringify(log));

  const plain = await browser.agent();
  const agentPage = await signIn(plain, AGENT_TOKEN);
  assert.equal(await agentPage.getByRole('button', { name: 'Webhooks' }).count(), 0, 'no Webhooks for an agent who is not an admin');
  await plain.close();

  // bypassCSP: axe-core is injected as a script; the console's own CSP allows only its files.
  const ctx = await browser.agent({ bypassCSP: true });
  const page = await signIn(ctx, TOKEN);
  const errors = watchErrors(page);
  await page.getByRole('button', { name: 'Webhooks' }).click();
  const section = page.getByRole('region', { name: 'Webhooks' });
  await section.waitFor();
  const card = section.locator('.wsub');
  await card.first().waitFor();
  assert.equal(await card.count(), 1);
  assert.equal((await card.locator('.wurl').textContent()).trim(), receiver.url);
  const rows = card.locator('tbody tr');
  assert.equal(await rows.count(), log.length);
  const first = rows.first();
  assert.match(await first.textContent(), /message\.created/);
  assert.equal((await first.locator('.chip').textContent()).trim(), 'Given up');
  assert.equal((await first.locator('td').nth(2).textContent()).trim(), '1', 'one attempt');
  assert.equal((await first.locator('td').nth(3).textContent()).trim(), '\u2013', 'no next retry');
  assert.match(await first.locator('.werror').textContent(), /the receiver answered 500/);
  assert.deepEqual(await axeViolations(page), []);
  await shoot(page, 'webhooks-page');

  // The receiver is fixed; the oldest delivery (the conversation's first event) is sent again.
  receiver.state.failing = false;
  const oldest = rows.last();
  const eventId = log[log.length - 1].event_id;
  await oldest.getByRole('button', { name: /^Redeliver/ }).click();
  await section.getByRole('status').filter({ hasText: 'Sent again' }).waitFor();
  for (let i = 0; i < 200 && !receiver.state.received.some((r) => r.status === 204); i++) await sleep(50);
  const arrived = receiver.state.received.filter((r) => r.event.id === eventId);
  assert.deepEqual(arrived.map((r) => r.status), [500, 204], 'given up once, delivered on redelivery');
  let shown = '';
  for (let i = 0; i < 100 && shown !== 'Delivered'; i++) {
    await section.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('.webhooks [role=status]').textContent));
    shown = (await section.locator(`tbody tr[data-id="${log[log.length - 1].id}"] .chip`).textContent()).trim();
    if (shown !== 'Delivered') await sleep(50);
  }
  assert.equal(shown, 'Delivered');
  assert.equal((await section.locator(`tbody tr[data-id="${log[log.length - 1].id}"] td`).nth(2).textContent()).trim(), '2');
  await shoot(page, 'webhooks-redelivered');
  assert.deepEqual(errors, []);
  visitor.close();
  await ctx.close();
});
