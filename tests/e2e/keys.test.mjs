// The console's API keys page in Chromium against the real server: an admin makes a key
// (its secret shown once, with Copy and a clear "you will not see this again"), the secret
// works on the owner API, the list shows the key by its first characters only, and a revoke
// asks first, then the key authenticates nothing; an agent who is not an admin has no API
// keys button. node --test tests/e2e/keys.test.mjs (needs target/debug/baton and
// /usr/bin/chromium). Screenshots: /tmp/baton-shots/keys-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBaton, launchBrowser, watchErrors, configWithAgents, SHOTS } from './support.mjs';
import { shoot, axeViolations } from './ux.mjs';

const TOKEN = 'keys-admin-token';
const AGENT_TOKEN = 'keys-agent-token';

let baton, browser, config, dataDir;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Admin', token: TOKEN, role: 'admin' },
    { id: 'bo', name: 'Bo Agent', token: AGENT_TOKEN }]);
  dataDir = mkdtempSync(join(tmpdir(), 'baton-keys-'));
  const env = { BATON_CONFIG: config.dir, BATON__ARCHIVE__URL: `sqlite://${dataDir}/baton.sqlite`, BATON__ARCHIVE__POLL_MS: '20' };
  baton = await startBaton({ env });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  config?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function api(key, path) {
  const res = await fetch(baton.url + path, { headers: { authorization: `Bearer ${key}` } });
  return res.status;
}

async function signIn(ctx, token) {
  const page = await ctx.newPage();
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(token);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  return page;
}

test('an admin makes a key, sees its secret once, and revokes it after a confirm', async () => {
  const plain = await browser.agent();
  const agentPage = await signIn(plain, AGENT_TOKEN);
  assert.equal(await agentPage.getByRole('button', { name: 'API keys' }).count(), 0, 'no API keys for an agent who is not an admin');
  await plain.close();

  // bypassCSP: axe-core is injected as a script; the console's own CSP allows only its files.
  const ctx = await browser.agent({ bypassCSP: true });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baton.url });
  const page = await signIn(ctx, TOKEN);
  const errors = watchErrors(page);
  await page.getByRole('button', { name: 'API keys' }).click();
  const section = page.getByRole('region', { name: 'API keys' });
  await section.getByRole('status').filter({ hasText: 'No API key on your sites yet.' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await shoot(page, 'keys-empty');

  // The form says what is missing before anything is sent.
  await section.getByRole('button', { name: 'Create key' }).click();
  await section.getByRole('status').filter({ hasText: 'Give the key a name' }).waitFor();

  await section.getByLabel('Name').fill('CRM sync');
  assert.equal(await section.getByLabel('Site').inputValue(), 'demo');
  await section.getByLabel('Scope').selectOption('write');
  await section.getByRole('button', { name: 'Create key' }).click();
  const shown = section.getByRole('region', { name: 'The new key' });
  await shown.waitFor();
  assert.match(await shown.textContent(), /you will not see this key again/);
  const secret = (await shown.locator('.key-value').textContent()).trim();
  assert.match(secret, /^bk_[0-9a-f]{64}$/);
  await shown.getByRole('button', { name: 'Copy' }).click();
  await shown.getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  assert.equal(await api(secret, '/v1/api/conversations?site=demo'), 200, 'the secret is a working key');

  const row = section.locator('tbody tr');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.first().textContent(), /CRM sync.*demo.*write/);
  assert.equal((await row.first().locator('.chip').textContent()).trim(), 'Active');
  assert.equal((await row.first().locator('td.mono').textContent()).trim(), secret.slice(0, 11) + '\u2026');
  assert.deepEqual(await axeViolations(page), []);
  await shoot(page, 'keys-created');

  // Done forgets the secret: it is in no page after.
  await shown.getByRole('button', { name: 'Done, I have copied it' }).click();
  assert.equal(await page.content().then((html) => html.includes(secret)), false);

  // Revoke asks first; Cancel keeps the key.
  await row.first().getByRole('button', { name: 'Revoke CRM sync' }).click();
  await row.first().getByText('Revoke? Calls with it fail at once.').waitFor();
  await shoot(page, 'keys-confirm');
  await row.first().getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await api(secret, '/v1/api/conversations?site=demo'), 200, 'cancel revoked nothing');
  await row.first().getByRole('button', { name: 'Revoke CRM sync' }).click();
  await row.first().getByRole('button', { name: 'Yes, revoke' }).click();
  await section.getByRole('status').filter({ hasText: 'Revoked: CRM sync.' }).waitFor();
  await section.locator('tbody tr .chip', { hasText: /^Revoked / }).waitFor();
  assert.equal(await section.locator('tbody tr').getByRole('button', { name: /^Revoke/ }).count(), 0);
  assert.equal(await api(secret, '/v1/api/conversations?site=demo'), 401, 'revoked at once');
  assert.deepEqual(await axeViolations(page), []);
  await shoot(page, 'keys-revoked');
  assert.deepEqual(errors, []);
  await ctx.close();
});
