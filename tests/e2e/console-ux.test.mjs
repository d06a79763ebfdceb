// The console as an agent lives in it (issue #16): narrow screens (the context as a drawer,
// nothing overlapping), a numbered queue previewed read-only before taking, finished chats under "Resolved today", left
// messages marked handled, the visitor's context, and axe-core's contrast check on every
// state. Screenshots at 1440/1024/760/390 px: /tmp/baton-shots/console-ux-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, launchBrowser, watchErrors, connectVisitor, configWithAgents, SHOTS } from './support.mjs';
import { shoot, axeViolations, assetsFromDisk, WIDTHS } from './ux.mjs';

const TOKEN = 'demo-agent-token';
let baton, browser, config;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  config = configWithAgents([{ id: 'dev', name: 'Dev Agent', token: TOKEN, teams: ['support'], max_chats: 5 }],
    { handoff: { routing: 'manual' } });
  baton = await startBaton({ env: { BATON_CONFIG: config.dir } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  config?.remove();
});

async function openConsole(width = 1440) {
  // bypassCSP: axe-core is injected as a script; the console's own CSP allows only its files.
  const ctx = await browser.agent({ viewport: { width, height: 900 }, bypassCSP: true });
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').fill(TOKEN);
  await page.getByLabel('Agent token').press('Enter');
  await page.locator('.conn-open').waitFor();
  return { ctx, page, errors };
}

async function escalatedVisitor(text, hello = {}) {
  const v = await connectVisitor(baton.url, { hello });
  v.send({ type: 'message', client_id: 'v-' + Math.random().toString(36).slice(2), text });
  v.send({ type: 'request_human' });
  await v.next((f) => f.type === 'state' && f.state === 'queued', 15000);
  return v;
}

/** Pairs of visible regions that overlap, and whether the page scrolls sideways. */
const overlaps = (page) => page.evaluate(() => {
  const pick = ['.top', '.side', '.chat-head .who', '.chat-head .actions', '.act-details', '.transcript', '.composer', '.chat-empty'];
  const boxes = pick.flatMap((sel) => [...document.querySelectorAll(sel)].filter((el) => el.offsetParent !== null)
    .map((el) => ({ sel, r: el.getBoundingClientRect() })));
  const hit = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const contains = (x, y) => x.left <= y.left && x.right >= y.right && x.top <= y.top && x.bottom >= y.bottom;
      if (contains(a, b) || contains(b, a)) continue; // a part inside its own region
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) hit.push(boxes[i].sel + ' × ' + boxes[j].sel);
    }
  }
  const top = document.querySelector('.top');
  const topKids = [...top.children].filter((el) => el.offsetParent !== null).map((el) => el.getBoundingClientRect());
  for (let i = 0; i < topKids.length; i++) for (let j = i + 1; j < topKids.length; j++) {
    const a = topKids[i], b = topKids[j];
    if (a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) hit.push('top bar items ' + i + ' × ' + j);
  }
  return { hit, sideways: document.documentElement.scrollWidth > innerWidth + 1 };
});

test('at every width nothing overlaps; below 1,100 px the context opens as a drawer, Alt+C and Alt+I open it', async () => {
  const v = await escalatedVisitor('My parcel is late and I want a refund', { locale: 'de-DE' });
  const { ctx, page, errors } = await openConsole();
  try {
    await page.locator('.qitem').first().waitFor();
    assert.deepEqual(await axeViolations(page), [], 'queue');
    await page.locator('.qitem').first().click();
    await page.locator('.qitem .take').first().click();
    await page.locator('.chat-title').waitFor();
    await page.locator('.context .summary').waitFor();
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
      const o = await overlaps(page);
      assert.deepEqual(o.hit, [], `overlaps at ${width}px`);
      assert.equal(o.sideways, false, `no sideways scroll at ${width}px`);
      const drawer = width <= 1100;
      await page.locator('.context').waitFor({ state: drawer ? 'hidden' : 'visible' }); // `context ${drawer ? 'in its drawer' : 'shown'} at ${width}px`
      if (drawer) {
        await page.getByRole('button', { name: /Details/ }).click();
        await page.locator('.context.open .summary').waitFor();
        assert.ok(await page.locator('.context .summary').isVisible());
        await page.waitForFunction(() => getComputedStyle(document.querySelector('.context')).transform === 'none'); // slid in
        await page.screenshot({ path: `${SHOTS}/console-ux-drawer-${width}.png` });
        assert.deepEqual(await axeViolations(page), [], `drawer at ${width}px`);
        await page.keyboard.press('Escape');
        await page.locator('.context').waitFor({ state: 'hidden' });
        await page.waitForFunction(() => getComputedStyle(document.querySelector('.context')).visibility === 'hidden');
        await page.locator('.composer textarea').focus();
        await page.keyboard.press('Alt+KeyC');
        await page.waitForFunction(() => document.activeElement?.classList.contains('canned-filter'));
        assert.ok(await page.locator('.canned-filter').isVisible(), 'Alt+C opened the drawer to its target');
        await page.keyboard.press('Alt+KeyI');
        await page.waitForFunction(() => !document.querySelector('.context').classList.contains('open'));
      }
      await page.screenshot({ path: `${SHOTS}/console-ux-chat-${width}.png` });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    // The visitor panel: the page, the browser's language and the one they write in.
    const visitor = await page.locator('.context .visitor').textContent();
    assert.match(visitor, /Browser\s*de-DE/);
    assert.match(visitor, /Writes in/);
    assert.deepEqual(await axeViolations(page), [], 'an open chat');
    assert.deepEqual(errors, []);
  } finally {
    v.close();
    await ctx.close();
  }
});

test('the queue is numbered as it is ordered; a finished chat moves to "Resolved today"', async () => {
  const visitors = [];
  for (const text of ['First: where is my order', 'Second: refund please', 'Third: wrong size']) visitors.push(await escalatedVisitor(text));
  const { ctx, page, errors } = await openConsole();
  try {
    await page.locator('.qitem').nth(2).waitFor();
    const nums = await page.locator('.qitem .qnum').allTextContents();
    assert.deepEqual(nums.slice(0, 3), ['1', '2', '3']);
    await shoot(page, 'console-ux-queue');
    const mine = await page.locator('.mine-box .tab').count(); // chats earlier tests left with this agent
    const done = await page.locator('.done-box .tab').count();
    // A click previews the transcript, read-only, before the chat is taken.
    await page.locator('.qitem', { hasText: 'Second' }).click();
    await page.locator('.transcript', { hasText: 'Second: refund please' }).waitFor();
    await page.locator('.chat-title', { hasText: 'Preview' }).waitFor();
    assert.equal(await page.locator('.composer').isVisible(), false, 'a preview takes no replies');
    await shoot(page, 'console-ux-preview');
    assert.deepEqual(await axeViolations(page), [], 'preview');
    await page.locator('.qitem.selected .take').click();
    await page.locator('.composer').waitFor();
    await page.locator('.mine-box .tab').nth(mine).waitFor();
    assert.equal(await page.locator('.mine-box .count').textContent(), String(mine + 1));
    await page.getByRole('button', { name: /Resolve/ }).click();
    await page.locator('.done-box .tab').nth(done).waitFor();
    assert.equal(await page.locator('.mine-box .tab').count(), mine, 'a resolved chat leaves "My chats"');
    assert.equal(await page.locator('.done-box .count').textContent(), String(done + 1));
    await shoot(page, 'console-ux-resolved');
    assert.deepEqual(await axeViolations(page), [], 'resolved');
    assert.deepEqual(errors, []);
  } finally {
    visitors.forEach((v) => v.close());
    await ctx.close();
  }
});

test('a left message shows its email in the visitor panel; marked handled, every console of the site sees who did', async () => {
  const v = await escalatedVisitor('Call me back please');
  v.send({ type: 'leave_message', email: 'lea@example.com', text: 'Please call me about order 1042' });
  await v.next((f) => f.type === 'message' && /with our team/.test(f.text || ''));
  const { ctx, page, errors } = await openConsole();
  // A second console, in another browser profile (nothing shared but the server).
  const other = await openConsole(390);
  try {
    const item = page.locator('.left-item', { hasText: 'lea@example.com' });
    await item.waitFor();
    await other.page.locator('.left-item', { hasText: 'lea@example.com' }).waitFor();
    // The message leads to its conversation: a read-only preview while it waits.
    await item.getByRole('button', { name: 'Open conversation' }).click();
    await page.locator('.transcript .msg.visitor', { hasText: 'Call me back please' }).waitFor();
    await page.locator('.qitem', { hasText: 'Call me back' }).click();
    await page.locator('.qitem.selected .take').click();
    await page.locator('.context .visitor', { hasText: 'lea@example.com' }).waitFor();
    await shoot(page, 'console-ux-left');
    await item.getByRole('button', { name: 'Mark handled' }).click();
    await page.locator('.left-box', { hasText: '1 handled' }).waitFor();
    assert.equal(await page.locator('.left-item', { hasText: 'lea@example.com' }).count(), 0);
    // Live in the other console, with who marked it; kept by the server across a reload.
    const done = other.page.locator('.left-done', { hasText: 'lea@example.com' });
    await done.locator('.fine', { hasText: 'Handled by Dev Agent' }).waitFor();
    await shoot(other.page, 'console-ux-left-handled');
    await page.reload();
    await page.locator('.left-box', { hasText: '1 handled' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'left messages');
    // Undone from the other console: open again everywhere.
    await done.getByRole('button', { name: 'Not handled' }).click();
    await page.locator('.left-item', { hasText: 'lea@example.com' }).waitFor();
    assert.deepEqual(errors, []);
    assert.deepEqual(other.errors, []);
  } finally {
    v.close();
    await ctx.close();
    await other.ctx.close();
  }
});

test('the sign-in screen passes axe at every width', async () => {
  const ctx = await browser.agent({ bypassCSP: true });
  await assetsFromDisk(ctx);
  const page = await ctx.newPage();
  await page.goto(baton.url + '/console/');
  await page.getByLabel('Agent token').waitFor();
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: 900 });
    assert.deepEqual(await axeViolations(page), [], `sign-in at ${width}px`);
  }
  await shoot(page, 'console-ux-signin');
  await ctx.close();
});
