// The verdict on a handoff and the Reports page, in the console against the real server, in
// Chromium: an agent takes an escalated chat, resolves it, judges the handoff with one click,
// and the reports count the verdict; a bot-only chat is ended and rated; the admin's Reports
// page shows every figure of the endpoint, its charts (inline SVG) and a CSV download, and an
// agent who is not an admin has no Reports button. node --test tests/e2e/reports.test.mjs
// (needs target/debug/baton and /usr/bin/chromium). Screenshots: /tmp/baton-shots/reports-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, connectVisitor, configWithAgents, SHOTS } from './support.mjs';
import { shoot, axeViolations } from './ux.mjs';

const TOKEN = 'reports-admin-token';
const AGENT_TOKEN = 'reports-agent-token';
const WIDTHS = [1440, 1024, 760, 390];

let baton, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Agent', token: TOKEN, role: 'admin' },
    { id: 'bo', name: 'Bo Agent', token: AGENT_TOKEN }], { handoff: { routing: 'manual' } });
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

async function signIn(browserCtx, token) {
  const page = await browserCtx.newPage();
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(token);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  return page;
}

test('an admin reads the Reports page: every figure, the charts and a CSV download', async () => {
  // A chat the bot alone handled: answered, ended by the visitor, rated 5.
  const visitor = await connectVisitor(baton.url);
  visitor.send({ type: 'message', client_id: 'b1', text: 'How long does shipping take?' });
  await visitor.next((f) => f.type === 'message' && f.from === 'bot', 15000);
  visitor.send({ type: 'end' });
  await visitor.next((f) => f.type === 'csat_request');
  visitor.send({ type: 'csat', score: 5 });
  let expected = null;
  for (let i = 0; i < 200 && !(expected?.conversations === 2 && expected?.csat?.bot_ratings === 1); i++) {
    expected = await report();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(expected.conversations, 2);

  const plain = await browser.agent();
  const agentPage = await signIn(plain, AGENT_TOKEN);
  assert.equal(await agentPage.getByRole('button', { name: 'Reports' }).count(), 0, 'no Reports for an agent who is not an admin');
  await plain.close();

  // bypassCSP: axe-core is injected as a script; the console's own CSP allows only its files.
  const ctx = await browser.agent({ acceptDownloads: true, bypassCSP: true });
  const page = await signIn(ctx, TOKEN);
  const errors = watchErrors(page);
  await page.getByRole('button', { name: 'Reports' }).click();
  const section = page.getByRole('region', { name: 'Reports' });
  await section.waitFor();
  const card = (label) => section.locator('.rcard', { has: page.locator('.rlabel', { hasText: new RegExp('^' + label + '$') }) });
  await card('Conversations').locator('.rvalue', { hasText: '2' }).waitFor();
  // The page shows the endpoint's numbers (tests/api/reports.rs checks those against known figures).
  const f = expected;
  const shown = async (label) => (await card(label).locator('.rvalue').textContent()).trim();
  assert.equal(await shown('Handoff rate'), Math.round(f.handoff_rate * 1000) / 10 + '%');
  assert.equal(await shown('Bot resolution'), Math.round(f.bot_resolution_rate * 1000) / 10 + '%');
  assert.equal(await shown('CSAT, bot only'), f.csat.bot.toFixed(2));
  assert.equal(await shown('CSAT, with a person'), '\u2013', 'the handled chat was not rated');
  assert.equal(await shown('Offers of a person'), String(f.offers.made));
  assert.equal(await shown('Left messages'), String(f.left_messages.count));
  for (const label of ['First bot answer', 'Wait for a person', 'First response', 'Handle time']) {
    assert.match(await shown(label), /^(\d+s|\d+m \d\ds|\d+h \d\dm|\u2013)$/, label);
  }
  assert.equal(await section.locator('.rcard').count(), 11);
  // Charts: one stacked bar per day (drawn as SVG rects), one bar per handoff reason.
  assert.equal(await section.locator('svg.chart-series rect').count(), f.series.reduce((n, p) =>
    n + [p.resolved_by_bot, p.escalated, p.conversations - p.resolved_by_bot - p.escalated].filter((x) => x > 0).length, 0));
  assert.equal(await section.locator('svg.chart-bars rect').count(), Object.keys(f.handoffs_by_reason).length);
  const verdicts = section.locator('.rsection', { hasText: 'verdicts' });
  assert.match(await verdicts.locator('tbody tr').first().textContent(), /Asked for a person.*1.*100%.*100%/);
  const agents = section.locator('.rsection', { hasText: 'By agent' });
  assert.match(await agents.locator('tbody tr').first().textContent(), /^dev1/);

  // By week: one period holds both chats.
  await page.locator('#report-period').selectOption('week');
  await section.getByRole('button', { name: 'Show' }).click();
  await section.locator('figcaption', { hasText: 'Conversations by week' }).waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8').split('\n');
  assert.match(csv[0], /^slice,key,conversations,resolved_by_bot/);
  assert.match(csv[1], /^total,,2,/);
  assert.ok(csv.some((l) => l.startsWith('week,')), csv.join('\n'));

  assert.deepEqual(await axeViolations(page), []);
  await shoot(page, 'reports-page');
  await page.setViewportSize({ width: 390, height: 844 });
  await section.locator('.rcharts').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/reports-page-charts-390.png` });
  assert.deepEqual(errors, []);
  visitor.close();
  await ctx.close();
});
