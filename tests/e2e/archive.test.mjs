// The console's archive page against the real server, in Chromium: conversations had on real
// sockets reach the archive (a SQLite file of the test's own), an agent searches them and
// opens one read-only. node --test tests/e2e/archive.test.mjs (needs target/debug/baton).
// Screenshots: /tmp/baton-shots/archive-*.png at 1440, 1024, 760 and 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBaton, launchBrowser, watchErrors, connectVisitor, connectAgent, SHOTS } from './support.mjs';

const TOKEN = 'demo-agent-token';
const WIDTHS = [1440, 1024, 760, 390];

let baton, browser, dataDir;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'baton-archive-e2e-'));
  baton = await startBaton({ env: {
    BATON__ARCHIVE__URL: `sqlite://${dataDir}/archive.sqlite`,
    BATON__ARCHIVE__POLL_MS: '20',
    BATON__HANDOFF__JANITOR_SECS: '1'
  } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A visitor who asks the bot `text` and reads its answer. */
async function asks(text, id) {
  const v = await connectVisitor(baton.url);
  v.send({ type: 'message', client_id: id, text });
  await v.next((f) => f.type === 'message' && f.from === 'bot' && f.seq > v.welcome.last_seq + 1, 15000);
  return v;
}

/** Polls the archive endpoint until `count` conversations are archived. */
async function archived(count) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const res = await fetch(baton.url + '/v1/agent/archive', { headers: { Authorization: 'Bearer ' + TOKEN } });
    const body = await res.json();
    if (res.ok && body.items.length >= count) return body.items;
    if (Date.now() > deadline) throw new Error('the archive never held ' + count + ': ' + JSON.stringify(body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an agent searches the archive and opens a past conversation read-only', async () => {
  const ann = await asks('Where is my parcel? It has been two weeks.', 'a1');
  ann.send({ type: 'request_human' });
  await ann.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  const dev = await connectAgent(baton.url, TOKEN);
  await ann.next((f) => f.type === 'state' && f.state === 'agent', 15000);
  dev.send({ type: 'note', conversation_id: ann.welcome.conversation_id, text: 'Asked the carrier about the parcel' });
  dev.send({ type: 'resolve', conversation_id: ann.welcome.conversation_id });
  await ann.next((f) => f.type === 'state' && f.state === 'resolved', 15000);
  await asks('Do you sell teapots?', 'b1');
  await archived(2);

  const ctx = await browser.agent();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(TOKEN);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();

  await page.getByRole('button', { name: 'Archive' }).click();
  const list = page.getByRole('list', { name: 'Archived conversations' });
  await list.locator('.aitem').nth(1).waitFor();
  assert.equal(await list.locator('.aitem').count(), 2, 'opening the archive lists the newest conversations');
  assert.match(await list.locator('.aitem').first().textContent(), /teapots/, 'newest first');

  await page.getByRole('searchbox', { name: 'Words' }).fill('PARCEL');
  await page.getByLabel('Escalated because').selectOption('explicit_request');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('.archive-status', { hasText: '1 conversation' }).waitFor();
  const hit = list.locator('.aitem');
  assert.match(await hit.textContent(), /Where is my parcel/);
  assert.match(await hit.textContent(), /Asked for a person/);

  await hit.click();
  const transcript = page.getByRole('log', { name: 'Archived transcript' });
  await transcript.locator('.msg.visitor', { hasText: 'two weeks' }).waitFor();
  await transcript.locator('.note', { hasText: 'Asked the carrier' }).waitFor();
  await page.locator('.banner.archived', { hasText: 'Read-only' }).waitFor();
  assert.equal(await page.locator('.archive textarea').count(), 0, 'nothing to write in an archived conversation');

  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    await page.waitForTimeout(100);
    await page.screenshot({ path: `${SHOTS}/archive-open-${width}.png`, fullPage: width < 500 });
  }

  await page.setViewportSize({ width: 1440, height: 900 });
  await page.getByRole('searchbox', { name: 'Words' }).fill('nothing like this was said');
  await page.getByLabel('Escalated because').selectOption('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('.archive-status', { hasText: 'No archived conversation matches.' }).waitFor();
  await page.screenshot({ path: `${SHOTS}/archive-empty-1440.png` });

  await page.getByRole('button', { name: 'Back to chats' }).click();
  await page.locator('.queue-box').waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});
