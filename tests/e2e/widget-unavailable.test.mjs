// The widget when the live store stalls (issue #13): a real Baton on a real redis-server that
// the test stops with SIGSTOP. The visitor is told the service is having trouble (never the
// "nobody is available" form), the message waits and is resent, and once Redis runs again it
// is stored and answered and the line goes. Screenshots: /tmp/baton-shots/unavailable-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, widget, freePort, SHOTS } from './support.mjs';
import { shoot } from './ux.mjs';

let redis, baton, browser;

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      probe.stdout.on('data', (d) => { out += d; });
      probe.on('close', () => resolve(out.includes('PONG')));
    });
    if (up) return { url: `redis://127.0.0.1:${port}/`, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  redis = await startRedis();
  baton = await startBaton({ env: { BATON__STORE__REDIS_URL: redis.url, BATON__STORE__NAMESPACE: `e2e${process.pid}` } });
  browser = await launchBrowser();
});

after(async () => {
  redis?.child.kill('SIGCONT');
  await browser?.close();
  await baton?.stop();
  redis?.child.kill('SIGKILL');
});

test('a stalled store is told as trouble, the message waits and is answered once Redis runs again', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(`${baton.url}/`);
  const w = widget(page);
  await w.launcher.click();
  await w.ask('How do I return an item?');
  await w.botBubbles.first().waitFor({ timeout: 15000 });

  redis.child.kill('SIGSTOP');
  try {
    await w.ask('When will my order arrive?');
    const trouble = page.getByText('We are having trouble. Retrying…');
    await trouble.waitFor({ timeout: 20000 });
    assert.equal(await page.getByRole('textbox', { name: 'Your email' }).count(), 0, 'no leave-a-message form for a store fault');
    await shoot(page, 'unavailable-trouble');
  } finally {
    redis.child.kill('SIGCONT');
  }
  // The resent message is stored and answered; the line goes.
  await page.getByText('We are having trouble. Retrying…').waitFor({ state: 'hidden', timeout: 30000 });
  await w.botBubbles.nth(1).waitFor({ timeout: 30000 });
  assert.equal(await w.visitorBubbles.count(), 2, 'each question shown once');
  await shoot(page, 'unavailable-recovered');
  assert.deepEqual(errors.filter((e) => !/WebSocket|ERR_CONNECTION/.test(e)), []);
  await ctx.close();
});
