// Proactive messages (issue #18) in Chromium: a site's [[proactive]] triggers open the widget
// with the bot's message when the page's URL matches or the visitor has stayed long enough,
// once; the caps hold across a reload, and the server refuses a visitor past them even when
// the widget's own record is gone. Screenshots: /tmp/baton-shots/proactive-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBaton, startHostSite, launchBrowser, watchErrors, configWithAgents, SHOTS } from './support.mjs';
import { shoot, assetsFromDisk } from './ux.mjs';

const PRICING = 'Comparing plans? Ask me anything about our prices.';
const DOCS = 'Stuck on something? I can point you to the right page.';
const BACK = 'Welcome back! Anything I can help with today?';

let baton, host, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([]);
  appendFileSync(join(config.dir, 'sites/demo.toml'), `
[[proactive]]
id = "pricing"
url = "*/pricing*"
text = { en = "${PRICING}" }
max_per_visitor = 1
min_interval_hours = 24

[[proactive]]
id = "docs-linger"
url = "*/docs.html"
after_secs = 20
text = { en = "${DOCS}" }

[[proactive]]
id = "welcome-back"
url = "*/home.html"
returning = true
text = { en = "${BACK}" }
`);
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  const page = (title) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
    <body><main><h1>${title}</h1><p>Northwind Goods</p></main><script async src="${baton.url}/widget.js" data-site="demo"></script></body></html>`;
  host = await startHostSite({ '/pricing.html': page('Pricing'), '/docs.html': page('Docs'), '/other.html': page('Other'), '/home.html': page('Home') });
  const launched = await launchBrowser();
  browser = { ...launched, visitor: async (o) => { const ctx = await launched.visitor(o); await assetsFromDisk(ctx); return ctx; } };
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await host?.close();
  config?.remove();
});

const bubbles = (page, text) => page.locator('baton-widget .msg.bot', { hasText: text });
const isOpen = (page) => page.locator('baton-widget .launcher').getAttribute('aria-expanded');

/** Waits `ms` of the page's own (fake) clock, then lets the socket's answer arrive. */
async function settle(page, ms = 0) {
  if (ms) await page.clock.runFor(ms);
  await page.waitForTimeout(300); // real time for the server's frames, not a wait on a rule
}

test('a URL pattern trigger opens the widget with its message once, and the cap holds across a reload and on the server', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + '/other.html');
  await page.locator('baton-widget .launcher').waitFor();
  await page.waitForTimeout(800);
  assert.equal(await isOpen(page), 'false', 'no trigger for this page');

  await page.goto(host.url + '/pricing.html');
  await bubbles(page, PRICING).waitFor();
  assert.equal(await isOpen(page), 'true', 'the widget opened with the message');
  assert.equal(await bubbles(page, PRICING).count(), 1);
  const notice = await page.locator('baton-widget .notice:not(.signed)').textContent();
  assert.match(notice, /AI assistant/, 'the AI notice is shown with the bot message');
  const focused = await page.evaluate(() => document.activeElement?.tagName);
  assert.notEqual(focused, 'BATON-WIDGET', 'the page keeps the focus: the visitor did not ask for the chat');
  await shoot(page, 'proactive-url');

  // Reload: the same conversation comes back with its one message, and nothing fires again.
  await page.reload();
  await bubbles(page, PRICING).waitFor();
  await page.waitForTimeout(1000);
  assert.equal(await bubbles(page, PRICING).count(), 1, 'once, after a reload too');

  // The widget's record and conversation wiped (but the same visitor key): the server says no.
  await page.evaluate(() => {
    for (const k of Object.keys(localStorage)) if (k.startsWith('baton:') && !k.endsWith(':visitor')) localStorage.removeItem(k);
    sessionStorage.clear();
  });
  const refused = new Promise((ok) => page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (String(f.payload).includes('"rate_limited"')) ok(JSON.parse(f.payload));
  })));
  await page.reload();
  const error = await refused;
  assert.match(error.message, /pricing/, 'the server names the capped trigger');
  await page.waitForTimeout(500);
  assert.equal(await isOpen(page), 'false', 'past the cap the widget stays closed');
  assert.equal(await bubbles(page, PRICING).count(), 0);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a time-on-page trigger opens the widget only after its seconds on the page, once', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.clock.install();
  await page.goto(host.url + '/docs.html');
  await page.locator('baton-widget .launcher').waitFor();
  await settle(page, 19000);
  assert.equal(await isOpen(page), 'false', 'not before 20 s on the page');
  assert.equal(await bubbles(page, DOCS).count(), 0);
  await settle(page, 1500);
  await bubbles(page, DOCS).waitFor();
  assert.equal(await isOpen(page), 'true');
  await shoot(page, 'proactive-time');
  // Closed by the visitor, then more time on the page: it does not come back.
  await page.locator('baton-widget .launcher').click();
  await settle(page, 60000);
  assert.equal(await isOpen(page), 'false');
  assert.equal(await bubbles(page, DOCS).count(), 1);
  await page.reload();
  await settle(page, 25000);
  assert.equal(await isOpen(page), 'false', 'the cap (once a day) holds across a reload');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('on a phone the message waits in the launcher preview instead of covering the page', async () => {
  const ctx = await browser.visitor({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + '/pricing.html');
  const preview = page.locator('baton-widget .preview', { hasText: PRICING });
  await preview.waitFor();
  assert.equal(await isOpen(page), 'false', 'the panel would cover the whole page');
  await shoot(page, 'proactive-phone-preview');
  await preview.click();
  await bubbles(page, PRICING).waitFor();
  assert.equal(await isOpen(page), 'true', 'one tap opens it');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a returning-visitor trigger waits for the next visit: not on the first, then once', async () => {
  const ctx = await browser.visitor();
  const first = await ctx.newPage();
  const errors = watchErrors(first);
  await first.goto(host.url + '/home.html');
  await first.locator('baton-widget .launcher').waitFor();
  await first.waitForTimeout(1000);
  assert.equal(await isOpen(first), 'false', 'a first visit is not a return');
  await first.close();
  // A new tab is a new visit (sessionStorage is per tab; localStorage remembers the first).
  const later = await ctx.newPage();
  const laterErrors = watchErrors(later);
  await later.goto(host.url + '/home.html');
  await bubbles(later, BACK).waitFor();
  assert.equal(await isOpen(later), 'true');
  assert.equal(await bubbles(later, BACK).count(), 1);
  assert.deepEqual([...errors, ...laterErrors], []);
  await ctx.close();
});
