// The offline bot reads the room in the widget (issue #19): a question it cannot answer is one
// message with the quick reply to a person, an upset visitor gets the apology and the offer
// at once and nothing after it, and a two-part question is answered part by part.
// Screenshots: /tmp/baton-shots/room-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, startHostSite, launchBrowser, watchErrors, SHOTS } from './support.mjs';
import { shoot, assetsFromDisk } from './ux.mjs';

let baton, host, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  baton = await startBaton();
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
    <body><main><h1>A customer's site</h1></main><script async src="${baton.url}/widget.js" data-site="demo"></script></body></html>`;
  host = await startHostSite({ '/en.html': page });
  const launched = await launchBrowser();
  browser = { ...launched, visitor: async (o) => { const ctx = await launched.visitor(o); await assetsFromDisk(ctx); return ctx; } };
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await host?.close();
});

async function openWidget() {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + '/en.html');
  await page.locator('baton-widget .launcher').click();
  await page.locator('baton-widget .msg.bot:not(.intro)').first().waitFor();
  return { ctx, page, errors };
}

async function ask(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('baton-widget .msg.visitor:not(.pending)', { hasText: text }).waitFor();
}

const botBubbles = (page, text) => page.locator('baton-widget .msg.bot:not(.intro):not(.streaming)', { hasText: text });
const quickReplies = (page) => page.locator('baton-widget .actions button');

test('a question the bot cannot answer is one message with the quick reply to a person', async () => {
  const { ctx, page, errors } = await openWidget();
  await ask(page, 'What is the airspeed velocity of an unladen swallow?');
  await botBubbles(page, "couldn't find").waitFor({ timeout: 10000 });
  await quickReplies(page).first().waitFor();
  await page.waitForTimeout(700); // nothing else is coming: a second offer would be here by now
  assert.equal(await botBubbles(page, 'talk to a person').count() + await botBubbles(page, 'Would you like').count(), 1);
  assert.equal(await quickReplies(page).count(), 1);
  await shoot(page, 'room-unanswerable');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an upset visitor gets the apology and the offer at once, and no "could not find" after it', async () => {
  const { ctx, page, errors } = await openWidget();
  await ask(page, "This is terrible. Your service is awful and I'm very annoyed.");
  await botBubbles(page, "I'm sorry about this").waitFor({ timeout: 10000 });
  await quickReplies(page).first().waitFor();
  await page.waitForTimeout(700);
  assert.equal(await botBubbles(page, "couldn't find").count(), 0);
  await shoot(page, 'room-upset');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a two-part question gets both parts answered, without a preamble', async () => {
  const { ctx, page, errors } = await openWidget();
  await ask(page, 'Do you ship to Canada? And how long does a refund take?');
  const reply = botBubbles(page, 'business days');
  await reply.waitFor({ timeout: 10000 });
  const text = await reply.first().textContent();
  assert.match(text, /Canada/);
  assert.doesNotMatch(text, /Here is what our help pages say/);
  await shoot(page, 'room-two-parts');
  assert.deepEqual(errors, []);
  await ctx.close();
});
