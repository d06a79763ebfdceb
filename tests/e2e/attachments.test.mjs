// Files in a chat, as visitors and agents send them (issue #16): the widget uploads over HTTP
// from another origin with progress and a cancel button, refuses what the site would refuse
// with a clear line, shows images as thumbnails that open full size; the agent sends a file
// from the console and sees the visitor's; the console shows the visitor's rating after the
// chat is resolved. Screenshots at 1440/1024/760/390 px: /tmp/baton-shots/files-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { startBaton, startHostSite, launchBrowser, watchErrors, connectVisitor, configWithAgents, SHOTS } from './support.mjs';
import { shoot, axeViolations, axeEverywhere, assetsFromDisk } from './ux.mjs';

const TOKEN = 'files-agent-token';
let baton, host, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Agent', token: TOKEN, teams: ['support'], max_chats: 5 }],
    { handoff: { routing: 'manual' } });
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  host = await startHostSite({ '/shop.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
    <body><main><h1>A customer's site</h1></main><script async src="${baton.url}/widget.js" data-site="demo"></script></body></html>` });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await host?.close();
  config?.remove();
});

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** A real w×h RGB PNG with a diagonal gradient (so a thumbnail visibly shows something). */
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * (w * 3 + 1) + 1 + x * 3;
      raw[i] = (x * 255) / w; raw[i + 1] = (y * 255) / h; raw[i + 2] = 180;
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const inWidget = (page, fn, arg) => page.evaluate(([src, a]) => {
  const root = document.querySelector('baton-widget').shadowRoot;
  return new Function('root', 'arg', 'return (' + src + ')(root, arg)')(root, a);
}, [fn.toString(), arg]);

async function openWidget() {
  const ctx = await browser.visitor();
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + '/shop.html');
  await page.locator('baton-widget .launcher').click();
  await page.getByRole('button', { name: 'Attach a file' }).waitFor();
  return { ctx, page, errors, picker: page.locator('baton-widget input[type=file]') };
}

const imageLoaded = (page, scope) => page.waitForFunction((sel) => {
  const host = document.querySelector('baton-widget');
  const img = sel === 'widget' ? host.shadowRoot.querySelector('.thumb img') : document.querySelector('.thumb img');
  return !!img && img.complete && img.naturalWidth > 0;
}, scope);

test('a visitor sends a picture: a thumbnail that opens full size, served from another origin', async () => {
  const { ctx, page, errors, picker } = await openWidget();
  try {
    await picker.setInputFiles({ name: 'broken-lamp.png', mimeType: 'image/png', buffer: png(640, 400) });
    await imageLoaded(page, 'widget');
    assert.equal(await page.locator('baton-widget .msg.file.visitor .thumb').count(), 1);
    await shoot(page, 'files-thumbnail');
    assert.deepEqual(await axeEverywhere(page, 'thumbnail'), []);
    await page.getByRole('button', { name: 'broken-lamp.png' }).click();
    const full = page.locator('baton-widget .lightbox img');
    await full.waitFor();
    const size = await inWidget(page, (root) => { const i = root.querySelector('.lightbox img'); return [i.naturalWidth, i.naturalHeight]; });
    assert.deepEqual(size, [640, 400], 'the full-size image is the file itself');
    await shoot(page, 'files-lightbox');
    assert.deepEqual(await axeEverywhere(page, 'lightbox'), []);
    await page.keyboard.press('Escape');
    await full.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test('an upload shows its progress and can be cancelled; nothing is sent', async () => {
  const { ctx, page, errors, picker } = await openWidget();
  try {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.alloc(6 * 1024 * 1024, 32)]);
    await picker.setInputFiles({ name: 'statement.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.waitForFunction(() => {
      const bar = document.querySelector('baton-widget').shadowRoot.querySelector('.uploading progress');
      return bar && bar.value > 0;
    });
    await shoot(page, 'files-progress');
    assert.deepEqual(await axeViolations(page), [], 'uploading');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('baton-widget .uploading').waitFor({ state: 'detached' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    // The next file goes through: had the cancelled one been stored, its event would come first.
    await picker.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('order 1042, size M') });
    await page.locator('baton-widget .msg.file', { hasText: 'notes.txt' }).waitFor();
    assert.equal(await page.locator('baton-widget .msg.file', { hasText: 'statement.pdf' }).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test('a refused file gets a clear line, whether the widget or the server refuses it', async () => {
  const { ctx, page, picker } = await openWidget();
  try {
    await picker.setInputFiles({ name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ\x90\x00') });
    await page.locator('baton-widget .ferr', { hasText: 'setup.exe: this file type is not accepted.' }).waitFor();
    await picker.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
    await page.locator('baton-widget .ferr', { hasText: 'huge.png: larger than 10 MB.' }).waitFor();
    // Named and typed as a picture, but the bytes are a web page: the server refuses it.
    await picker.setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
    await page.locator('baton-widget .ferr', { hasText: 'cat.png: this file type is not accepted.' }).waitFor();
    assert.equal(await page.locator('baton-widget .msg.file').count(), 0, 'nothing was sent');
    await shoot(page, 'files-refused');
    assert.deepEqual(await axeEverywhere(page, 'refused'), []);
  } finally {
    await ctx.close();
  }
});

async function openConsole() {
  const ctx = await browser.agent({ bypassCSP: true });
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(TOKEN);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn-open').waitFor();
  return { ctx, page, errors };
}

test('the agent sees the visitor\'s picture and sends a file the visitor opens', async () => {
  const visitor = await openWidget();
  const agent = await openConsole();
  try {
    await visitor.page.getByRole('textbox', { name: 'Message' }).fill('My lamp arrived broken, photo attached');
    await visitor.page.getByRole('button', { name: 'Send' }).click();
    await visitor.page.getByRole('button', { name: 'Talk to a person' }).click();
    await agent.page.locator('.qitem', { hasText: 'lamp arrived broken' }).click();
    await agent.page.locator('.qitem.selected .take').click();
    await agent.page.locator('.composer').waitFor();
    await visitor.picker.setInputFiles({ name: 'lamp.png', mimeType: 'image/png', buffer: png(320, 240) });
    await imageLoaded(agent.page, 'console');
    await agent.page.getByRole('button', { name: 'Open lamp.png full size' }).click();
    await agent.page.locator('.lightbox img').waitFor();
    await agent.page.keyboard.press('Escape');
    await agent.page.locator('.lightbox').waitFor({ state: 'hidden' });
    await agent.page.locator('.composer input[type=file]').setInputFiles({ name: 'return-label.pdf', mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n', 'latin1') });
    await agent.page.locator('.transcript .msg.file.agent', { hasText: 'return-label.pdf' }).waitFor();
    await shoot(agent.page, 'files-console');
    assert.deepEqual(await axeViolations(agent.page), [], 'console with files');
    const link = visitor.page.locator('baton-widget .msg.file.agent a', { hasText: 'return-label.pdf' });
    await link.waitFor();
    const href = await link.getAttribute('href');
    const fetched = await fetch(href);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-type'), 'application/pdf');
    assert.equal((await fetch(href.replace(/t=[^&]+/, 't=forged'))).status, 403);
    await shoot(visitor.page, 'files-from-agent');
    assert.deepEqual(await axeEverywhere(visitor.page, 'file from agent'), []);
    assert.deepEqual(agent.errors, []);
    assert.deepEqual(visitor.errors, []);
  } finally {
    await agent.ctx.close();
    await visitor.ctx.close();
  }
});

test('the console shows the visitor\'s rating and comment once the resolved chat is rated', async () => {
  const v = await connectVisitor(baton.url);
  v.send({ type: 'message', client_id: 'r1', text: 'Rating check: where is order 77?' });
  v.send({ type: 'request_human' });
  await v.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  const { ctx, page, errors } = await openConsole();
  try {
    await page.locator('.qitem', { hasText: 'Rating check' }).click();
    await page.locator('.qitem.selected .take').click();
    await page.locator('.composer').waitFor();
    await page.getByRole('button', { name: /Resolve/ }).click();
    await v.next((f) => f.type === 'state' && f.state === 'resolved', 15000);
    v.send({ type: 'csat', score: 4, comment: 'Quick and kind, thanks' });
    const rating = page.locator('.context .rating');
    await rating.waitFor();
    assert.match(await rating.textContent(), /4 \/ 5 Good.*Quick and kind, thanks/);
    await shoot(page, 'files-rating');
    assert.deepEqual(await axeViolations(page), [], 'rating');
    assert.deepEqual(errors, []);
  } finally {
    v.close();
    await ctx.close();
  }
});
