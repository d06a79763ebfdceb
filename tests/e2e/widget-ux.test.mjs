// The widget as a visitor lives in it (issue #16): the conversation stays in view, each thing
// is said once, speakers are told apart, ending and rating, the closed launcher's preview,
// right-to-left locales, and axe-core on every state. Screenshots: /tmp/baton-shots/ux-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startBaton, startScriptedLlm, startHostSite, launchBrowser, watchErrors, widget, freePort, connectAgent, SHOTS } from './support.mjs';
import { shoot, axeEverywhere, assetsFromDisk } from './ux.mjs';

const LONG = Array.from({ length: 14 }, (_, i) => `**Step ${i + 1}.** Open your orders page, pick the item and follow the return steps shown there.`).join('\n\n');
const SHORT = 'You can return any item within **30 days** of delivery.';

let llm, baton, host, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  llm = await startScriptedLlm({
    delayMs: 5,
    reply: (req) => /long/i.test(JSON.stringify(req.messages.at(-1))) ? LONG : SHORT
  });
  baton = await startBaton({ llm });
  const page = (lang, dir = '') => `<!doctype html><html lang="${lang}"${dir}><head><meta charset="utf-8"><title>Shop</title></head>
    <body><main><h1>A customer's site</h1></main><script async src="${baton.url}/widget.js" data-site="demo"></script></body></html>`;
  host = await startHostSite({ '/en.html': page('en'), '/ar.html': page('ar', ' dir="rtl"'), '/he.html': page('he', ' dir="rtl"') });
  const launched = await launchBrowser();
  browser = { ...launched, visitor: async (o) => { const ctx = await launched.visitor(o); await assetsFromDisk(ctx); return ctx; } };
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  await llm?.close();
  await host?.close();
});

const inWidget = (page, fn, arg) => page.evaluate(([src, a]) => {
  const root = document.querySelector('baton-widget').shadowRoot;
  return new Function('root', 'arg', 'return (' + src + ')(root, arg)')(root, a);
}, [fn.toString(), arg]);

/** Heights of the transcript and the panel, in px. */
const heights = (page) => inWidget(page, (root) => ({
  log: root.querySelector('.log').clientHeight,
  panel: root.querySelector('.panel').clientHeight
}));

/** Whether the newest message's bottom (or, when it is taller than the log, its top) is in view. */
const newestInView = (page) => inWidget(page, (root) => {
  const log = root.querySelector('.log');
  const all = log.querySelectorAll('.msg:not([hidden]), .system, .card');
  const last = all[all.length - 1];
  const l = log.getBoundingClientRect();
  const r = last.getBoundingClientRect();
  return r.top >= l.top - 1 && r.top < l.bottom;
});

const visibleCount = (page, selector, text) => inWidget(page, (root, [sel, txt]) =>
  [...root.querySelectorAll(sel)].filter((el) => el.offsetParent !== null && (!txt || el.textContent.includes(txt))).length, [selector, text]);

async function openWidget(ctx, path = '/en.html') {
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(host.url + path);
  const w = widget(page);
  await page.locator('baton-widget .launcher').click();
  await page.locator('baton-widget .msg.bot:not(.intro)').first().waitFor();
  return { page, w, errors };
}

test('a long answer is shown from its start, the log follows, and a visitor who scrolled up gets a pill', async () => {
  const ctx = await browser.visitor();
  const { page, w, errors } = await openWidget(ctx);
  await w.ask('Give me the long version please');
  await page.locator('baton-widget .msg.bot:not(.streaming)', { hasText: 'Step 14.' }).waitFor({ timeout: 15000 });
  const start = await inWidget(page, (root) => {
    const log = root.querySelector('.log');
    const bubbles = log.querySelectorAll('.msg.bot');
    const top = bubbles[bubbles.length - 1].getBoundingClientRect().top - log.getBoundingClientRect().top;
    return { top, tall: bubbles[bubbles.length - 1].offsetHeight > log.clientHeight };
  });
  assert.ok(start.tall, 'the answer is taller than the log');
  assert.ok(start.top >= 0 && start.top < 60, `the answer's first line is in view (top at ${start.top}px)`);
  assert.equal(await visibleCount(page, '.pill'), 0, 'no pill while the visitor reads what they asked for');
  await shoot(page, 'ux-long-answer');
  // The visitor scrolls up; a new message arrives: the view stays, the pill appears.
  await inWidget(page, (root) => { root.querySelector('.log').scrollTop = 0; });
  await w.ask('And the short one?'); // their own message: the log follows it
  assert.ok(await newestInView(page), 'the visitor sees their own message');
  await page.locator('baton-widget .msg.bot', { hasText: '30 days' }).waitFor({ timeout: 15000 });
  await inWidget(page, (root) => { root.querySelector('.log').scrollTop = 0; });
  await w.ask('Give me the long version again');
  await inWidget(page, (root) => { root.querySelector('.log').scrollTop = 0; });
  await page.locator('baton-widget .msg.bot:not(.streaming)', { hasText: 'Step 14.' }).nth(1).waitFor({ timeout: 15000 });
  await page.locator('baton-widget .pill').waitFor();
  assert.equal(await inWidget(page, (root) => root.querySelector('.log').scrollTop), 0, 'the visitor keeps their place');
  await shoot(page, 'ux-new-messages-pill');
  await page.locator('baton-widget .pill').click();
  assert.ok(await newestInView(page));
  assert.equal(await visibleCount(page, '.pill'), 0);
  // After a reload, and when the panel opens again, the newest message is in view.
  await page.reload();
  await page.locator('baton-widget .msg.bot', { hasText: 'Step 14.' }).nth(1).waitFor();
  assert.ok(await newestInView(page), 'after a reload');
  await page.locator('baton-widget .launcher').click(); // close
  await page.locator('baton-widget .launcher').click(); // open
  assert.ok(await newestInView(page), 'when the panel opens');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('with nobody online: waiting is said once, one Send, one thank-you, and the form never comes back', async () => {
  const server = await startBaton({ port: await freePort() });
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  try {
    await page.goto(server.url + '/');
    const w = widget(page);
    await w.launcher.click();
    await page.locator('baton-widget .msg.bot:not(.intro)').first().waitFor();
    assert.equal(await visibleCount(page, '.msg.bot'), 1, 'the greeting shows once');
    await w.human.click();
    // One line says nobody can come, with its reply; the form opens when the visitor picks it.
    const leave = page.getByRole('button', { name: 'Leave a message' });
    await leave.waitFor({ timeout: 10000 });
    assert.equal(await visibleCount(page, '.system', 'Leave your email'), 1, 'the notice, once');
    assert.equal(await visibleCount(page, '.card, .system', 'Nobody is available'), 0, 'no second line saying it again');
    assert.equal(await page.getByRole('textbox', { name: 'Your email' }).count(), 0);
    await shoot(page, 'ux-nobody-available');
    await leave.click();
    const email = page.getByRole('textbox', { name: 'Your email' });
    await email.waitFor({ timeout: 10000 });
    assert.equal(await visibleCount(page, '.card, .system', 'Nobody is available'), 0, 'the form adds no line of its own');
    assert.equal(await visibleCount(page, '.sub, .system, .qline, .card, .msg', 'Waiting for a person'), 1, 'one "waiting" (the header)');
    assert.equal(await visibleCount(page, '.system', 'Waiting for a person'), 0);
    assert.equal(await page.getByRole('button', { name: 'Send', exact: true }).count(), 1, 'one Send button');
    assert.equal(await visibleCount(page, '.actions', 'Leave a message'), 0, 'no chip beside the open form');
    const h = await heights(page);
    assert.ok(h.log >= h.panel / 2, `the transcript keeps half the panel (${h.log} of ${h.panel} px)`);
    await shoot(page, 'ux-leave-form');
    assert.deepEqual(await axeEverywhere(page, 'leave form'), []);
    await email.fill('ana@example.com');
    await page.locator('baton-widget .leave textarea').fill('Please call me about order 1042');
    await page.getByRole('button', { name: 'Leave message' }).click();
    await page.getByText('your message is with our team').waitFor({ timeout: 10000 });
    assert.equal(await visibleCount(page, '.system, .card', 'Thank'), 1, 'one thank-you');
    await shoot(page, 'ux-left-message');
    await page.reload();
    await page.getByText('your message is with our team').waitFor({ timeout: 10000 });
    assert.equal(await visibleCount(page, '.leave'), 0, 'the sent form does not come back after a reload');
    assert.equal(await visibleCount(page, '.msg.bot'), 1, 'the greeting shows once after a reload');
    // An agent comes online and takes the chat: nothing about leaving a message is left.
    const agent = await connectAgent(server.url, 'demo-agent-token');
    const assigned = await agent.next((f) => f.type === 'assigned');
    // Routed to the agent is not joined: the visitor is told once the agent opens the chat.
    agent.send({ type: 'open', conversation_id: assigned.conversation.conversation_id });
    await page.getByText('Dev Agent joined the chat.').waitFor({ timeout: 10000 });
    assert.equal(await visibleCount(page, '.system', 'joined the chat'), 1);
    assert.equal(await visibleCount(page, '.actions', 'Leave a message'), 0, 'no dead chip after an agent joined');
    agent.send({ type: 'message', conversation_id: assigned.conversation.conversation_id, client_id: 'a1', text: 'Hi Ana, **I am on it**.' });
    await page.locator('baton-widget .msg.agent', { hasText: 'I am on it' }).waitFor();
    agent.close();
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await server.kill();
  }
});

test('bot and person are told apart; the AI notice is the bot\'s; the live region reads plain text', async () => {
  const ctx = await browser.visitor();
  const { page, w, errors } = await openWidget(ctx);
  await w.ask('How do I return an item?');
  await page.locator('baton-widget .msg.bot', { hasText: '30 days' }).waitFor({ timeout: 15000 });
  assert.equal(await visibleCount(page, '.notice'), 1, 'the AI notice shows while the bot speaks');
  const bot = await inWidget(page, (root) => {
    const who = root.querySelector('.who-bot');
    return { ai: !!who.querySelector('.ai'), av: who.querySelector('.av').textContent, time: /\d/.test(who.textContent), title: root.querySelector('.msg.bot:not(.intro)').title };
  });
  assert.ok(bot.ai && bot.av && bot.time && /\d/.test(bot.title), JSON.stringify(bot));
  const spoken = await inWidget(page, (root) => root.querySelector('.sr').textContent);
  assert.match(spoken, /30 days/);
  assert.doesNotMatch(spoken, /\*\*/, 'no Markdown symbols in the live region');
  // A person takes over.
  const agent = await connectAgent(baton.url, 'demo-agent-token');
  await w.human.click();
  const assigned = await agent.next((f) => f.type === 'assigned');
  const id = assigned.conversation.conversation_id;
  agent.send({ type: 'message', conversation_id: id, client_id: 'a1', text: 'Hello, I am Dev.' });
  await page.locator('baton-widget .msg.agent', { hasText: 'I am Dev' }).waitFor();
  const person = await inWidget(page, (root) => {
    const who = root.querySelector('.who-agent');
    const a = getComputedStyle(root.querySelector('.msg.agent'));
    const b = getComputedStyle(root.querySelector('.msg.bot:not(.intro)'));
    return { ai: !!who.querySelector('.ai'), name: who.textContent, differ: a.backgroundColor !== b.backgroundColor || a.borderTopStyle !== b.borderTopStyle };
  });
  assert.equal(person.ai, false);
  assert.match(person.name, /Dev Agent/);
  assert.ok(person.differ, 'the agent bubble does not look like the bot one');
  assert.equal(await visibleCount(page, '.notice'), 0, 'no AI notice while a person has the chat');
  await shoot(page, 'ux-speakers');
  assert.deepEqual(await axeEverywhere(page, 'with an agent'), []);
  // The agent resolves: the rating comes, the AI notice does not.
  agent.send({ type: 'resolve', conversation_id: id });
  await page.locator('baton-widget .csat').waitFor();
  assert.equal(await visibleCount(page, '.notice'), 0, 'no AI notice after a person ended the chat');
  agent.close();
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('"End chat" waits for a first message and asks; the visitor rates with labels and a comment', async () => {
  const ctx = await browser.visitor();
  const { page, w, errors } = await openWidget(ctx);
  const end = page.getByRole('button', { name: 'End chat' });
  assert.equal(await end.count(), 0, 'nothing to end before the visitor has written');
  assert.deepEqual(await axeEverywhere(page, 'fresh panel'), []);
  await shoot(page, 'ux-fresh');
  await w.ask('How do I return an item?');
  await page.locator('baton-widget .msg.bot', { hasText: '30 days' }).waitFor({ timeout: 15000 });
  await end.click();
  await page.getByText('End this chat?').waitFor();
  await shoot(page, 'ux-end-confirm');
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await visibleCount(page, '.confirm'), 0);
  await end.click();
  await page.getByRole('button', { name: 'Yes, end it' }).click();
  await page.getByText('How would you rate this chat?').waitFor({ timeout: 10000 });
  const h = await heights(page);
  assert.ok(h.log >= h.panel / 2, `the rating leaves the transcript half the panel (${h.log} of ${h.panel} px)`);
  await page.getByRole('button', { name: /^Good 4 out of 5$/ }).click();
  await page.getByRole('textbox', { name: 'Add a comment (optional)' }).fill('Quick and kind');
  await shoot(page, 'ux-rating');
  assert.deepEqual(await axeEverywhere(page, 'rating'), []);
  await page.getByRole('button', { name: 'Send rating' }).click();
  await page.getByText('Thanks for your feedback!').waitFor();
  await page.getByRole('button', { name: 'Start a new chat' }).waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a message that arrives while the panel is closed shows a preview beside the launcher', async () => {
  const ctx = await browser.visitor();
  const { page, w, errors } = await openWidget(ctx);
  const agent = await connectAgent(baton.url, 'demo-agent-token');
  await w.human.click();
  const assigned = await agent.next((f) => f.type === 'assigned');
  // Routed to the agent is not joined: the visitor is told once the agent opens the chat.
  agent.send({ type: 'open', conversation_id: assigned.conversation.conversation_id });
  await page.getByText('Dev Agent joined the chat.').waitFor();
  await page.getByRole('button', { name: 'Close chat' }).first().click();
  agent.send({ type: 'message', conversation_id: assigned.conversation.conversation_id, client_id: 'p1', text: 'Your **refund** was sent today.' });
  const preview = page.locator('baton-widget .preview');
  await preview.waitFor();
  assert.match(await preview.textContent(), /Dev Agent.*Your refund was sent today\./);
  assert.equal(await page.locator('baton-widget .badge').textContent(), '1');
  await shoot(page, 'ux-preview');
  assert.deepEqual(await axeEverywhere(page, 'preview'), []);
  await preview.click();
  await page.locator('baton-widget .panel').waitFor();
  assert.equal(await visibleCount(page, '.preview'), 0);
  agent.send({ type: 'resolve', conversation_id: assigned.conversation.conversation_id });
  agent.close();
  assert.deepEqual(errors, []);
  await ctx.close();
});

for (const [locale, path, human] of [['ar', '/ar.html', 'التحدث إلى شخص'], ['he', '/he.html', 'לדבר עם נציג']]) {
  test(`in ${locale} the panel is laid out right to left`, async () => {
    const ctx = await browser.visitor({ locale });
    const { page, w, errors } = await openWidget(ctx, path);
    await page.getByRole('button', { name: human }).waitFor();
    await page.locator('baton-widget textarea.input').fill('مرحبا');
    await page.locator('baton-widget .send').click();
    await page.locator('baton-widget .msg.bot:not(.intro)').nth(1).waitFor({ timeout: 15000 });
    const layout = await inWidget(page, (root) => {
      const r = root.querySelector('.root');
      const me = root.querySelector('.msg.visitor').getBoundingClientRect();
      const bot = root.querySelector('.msg.bot:not(.intro)').getBoundingClientRect();
      return { dir: getComputedStyle(r).direction, mineLeft: me.left, botRight: bot.right, panelMid: root.querySelector('.panel').getBoundingClientRect().left + 190 };
    });
    assert.equal(layout.dir, 'rtl');
    assert.ok(layout.mineLeft < layout.panelMid && layout.botRight > layout.panelMid, JSON.stringify(layout));
    await shoot(page, `ux-rtl-${locale}`);
    assert.deepEqual(await axeEverywhere(page, locale), []);
    assert.deepEqual(errors, []);
    void w;
    await ctx.close();
  });
}

test('the composer shows where focus is, with borders of at least 3:1', async () => {
  const ctx = await browser.visitor();
  const { page, errors } = await openWidget(ctx);
  await page.keyboard.press('Tab');
  await page.locator('baton-widget textarea.input').focus();
  const look = await inWidget(page, (root) => {
    const s = getComputedStyle(root.querySelector('.input'));
    return { outline: s.outlineStyle, width: s.outlineWidth, border: s.borderTopColor };
  });
  assert.equal(look.outline, 'solid');
  assert.equal(look.width, '2px');
  const [r, g, b] = look.border.match(/\d+/g).map(Number);
  const lum = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const L = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
  assert.ok(1.05 / (L + 0.05) >= 3, `border ${look.border} against white is ${(1.05 / (L + 0.05)).toFixed(2)}:1`);
  await shoot(page, 'ux-focus');
  assert.deepEqual(errors, []);
  await ctx.close();
});
