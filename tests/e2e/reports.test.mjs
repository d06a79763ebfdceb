// The verdict on a handoff, in the console against the real server, in Chromium: an agent
// takes an escalated chat, resolves it, judges the handoff with one click, and the reports
// count the verdict. node --test tests/e2e/reports.test.mjs (needs target/debug/baton and
// /usr/bin/chromium). Screenshots: /tmp/baton-shots/reports-*.png at four widths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, connectVisitor, configWithAgents, SHOTS } from './support.mjs';

const TOKEN = 'reports-admin-token';
const WIDTHS = [1440, 1024, 760, 390];

let baton, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Agent', token: TOKEN, role: 'admin' }], { handoff: { routing: 'manual' } });
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  config?.remove();
});

async function report() {
  const url = `${baton.url}/v1/agent/reports?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z&site=demo`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.status === 200 ? response.json() : null;
}

test('an agent judges a resolved handoff with one click, and the reports count it', async () => {
  const ctx = await browser.agent();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(TOKEN);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();

  const visitor = await connectVisitor(baton.url);
  visitor.send({ type: 'message', client_id: 'v1', text: 'My refund has not arrived after three weeks.' });
  visitor.send({ type: 'request_human' });
  await visitor.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  await page.locator('.qitem').first().click();
  await page.keyboard.press('Enter');
  await visitor.next((f) => f.type === 'state' && f.state === 'agent');
  await page.locator('.composer textarea').fill('Sorry about that: I have reissued the refund today.');
  await page.locator('.composer textarea').press('Enter');
  await visitor.next((f) => f.type === 'message' && f.from === 'agent');
  await page.locator('.act-resolve').click();

  // The closed chat asks once whether the handoff was right; nothing is chosen yet.
  const group = page.getByRole('group', { name: 'Your verdict on this handoff' });
  await group.waitFor();
  assert.match(await group.textContent(), /Was handing this chat over right\?/);
  assert.equal(await group.locator('[aria-pressed="true"]').count(), 0);
  const sooner = group.getByRole('button', { name: 'Should have come sooner' });
  await sooner.click();
  await group.locator('.verdict-should_have_come_sooner[aria-pressed="true"]').waitFor();
  assert.match(await group.textContent(), /Thanks, noted/);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: `${SHOTS}/reports-verdict-${width}.png` });
  }

  // The archive has it: the reports show the verdict for the reason the chat went over with.
  let figures = null;
  for (let i = 0; i < 200 && !figures?.verdicts?.explicit_request; i++) {
    figures = await report();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(
    { ...figures.verdicts.explicit_request },
    { verdicts: 1, right_call: 0, bot_could_have_answered: 0, should_have_come_sooner: 1, precision: 1, lateness: 1 }
  );
  assert.equal(figures.escalated, 1);
  assert.deepEqual(errors, []);
  visitor.close();
  await ctx.close();
});
