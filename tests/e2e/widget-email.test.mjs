// Follow-up by email in Chromium, against the real server and a real SMTP server (aiosmtpd via
// scripts/smtp-server): a left message's email carries a link; opening it shows the whole
// thread in the widget and the visitor continues live; an ended chat's transcript can be
// emailed from the widget. node --test tests/e2e/widget-email.test.mjs
// Screenshots: /tmp/shots-h15b/widget-*.png at 1440, 1024, 760 and 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { REPO, startBaton, launchBrowser, watchErrors, connectAgent, freePort, widget } from './support.mjs';
import { WIDTHS } from './ux.mjs';

const SHOTS = process.env.SHOTS_DIR || '/tmp/shots-h15b';
let baton, browser, smtp, mailDir;

async function startSmtp() {
  const port = await freePort();
  mailDir = mkdtempSync(join(tmpdir(), 'baton-mail-'));
  const child = spawn(join(REPO, 'scripts/smtp-server'), ['--port', String(port), '--dir', mailDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; ; i++) {
    const up = await new Promise((ok) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); ok(true); });
      s.on('error', () => ok(false));
    });
    if (up) break;
    assert.ok(i < 600, 'the SMTP server starts');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => child.kill() };
}

/** One email's headers and its body decoded (quoted-printable or base64, as lettre chose). */
function decode(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  let body = rest.join('\r\n\r\n');
  const encoding = (head.match(/^Content-Transfer-Encoding:\s*(\S+)/im) || [])[1] || '';
  if (/^quoted-printable$/i.test(encoding)) {
    const bytes = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16))), 'latin1');
    body = bytes.toString('utf8');
  } else if (/^base64$/i.test(encoding)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return head + '\r\n\r\n' + body;
}

/** The delivered emails, decoded, once `n` arrived. */
async function mails(n) {
  for (let i = 0; i < 200; i++) {
    const files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort();
    if (files.length >= n) {
      return files.map((f) => decode(readFileSync(join(mailDir, f), 'utf8')));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} emails`);
}

async function shots(page, name) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    await page.waitForTimeout(50); // a frame for the layout
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtp();
  const port = await freePort();
  baton = await startBaton({ port, env: {
    BATON__EMAIL__SMTP_HOST: '127.0.0.1',
    BATON__EMAIL__SMTP_PORT: String(smtp.port),
    BATON__EMAIL__SECURITY: 'none',
    BATON__EMAIL__PUBLIC_URL: `http://127.0.0.1:${port}`,
    BATON__EMAIL__LINK_SECRET: 'e2e link secret',
    BATON__EMAIL__OUTBOX_POLL_MS: '100'
  } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await baton?.stop();
  smtp?.stop();
  if (mailDir) rmSync(mailDir, { recursive: true, force: true });
});

test('the emailed link reopens the conversation with its whole thread, and an ended chat emails its transcript', async () => {
  const ctx = await browser.visitor();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(baton.url + '/');
  const w = widget(page);
  await w.launcher.click();
  await w.human.click();
  await page.getByRole('button', { name: 'Leave a message' }).click({ timeout: 10000 });
  const email = page.getByRole('textbox', { name: 'Your email' });
  await email.waitFor({ timeout: 10000 });
  await email.fill('lea@example.com');
  await page.locator('baton-widget .card textarea').fill('Please send the invoice for order 1042');
  await page.locator('baton-widget .card').getByRole('button').first().click();
  await page.getByText('your message is with our team').waitFor({ timeout: 10000 });
  await ctx.close();

  const [confirmation] = await mails(1);
  const found = confirmation.match(/http:\/\/127\.0\.0\.1:\d+\/v1\/resume\?t=[a-z0-9.]+/);
  assert.ok(found, `the confirmation carries a resume link:\n${confirmation}`);
  const link = found[0];
  // Another browser, as from the email: the same conversation, the whole thread, live.
  const later = await browser.visitor();
  const back = await later.newPage();
  const backErrors = watchErrors(back);
  await back.goto(link);
  await back.locator('baton-widget .msg.visitor', { hasText: 'Please send the invoice' }).waitFor({ timeout: 10000 }).catch(() => {});
  await back.getByText('your message is with our team').waitFor({ timeout: 10000 });
  const agent = await connectAgent(baton.url, 'demo-agent-token');
  const assigned = await agent.next((f) => f.type === 'assigned');
  const id = assigned.conversation.conversation_id;
  agent.send({ type: 'message', conversation_id: id, client_id: 'a1', text: 'Your invoice is attached to your account now.' });
  await back.locator('baton-widget .msg.agent', { hasText: 'invoice is attached' }).waitFor({ timeout: 10000 });
  const bw = widget(back);
  await bw.ask('Thank you!');
  await agent.next((f) => f.type === 'message' && f.from === 'visitor' && f.text === 'Thank you!');
  await shots(back, 'widget-resumed');

  // The agent resolves; the rating card offers the transcript by email.
  agent.send({ type: 'resolve', conversation_id: id });
  const offer = back.getByText('Email me this conversation');
  await offer.waitFor({ timeout: 10000 });
  await shots(back, 'widget-transcript-offer');
  await back.locator('baton-widget form', { hasText: 'Email me this conversation' }).getByRole('textbox').fill('lea@example.com');
  await back.locator('baton-widget form', { hasText: 'Email me this conversation' }).getByRole('button', { name: 'Send' }).click();
  await back.getByText('\u2713 lea@example.com').waitFor({ timeout: 10000 });
  const all = await mails(3);
  const transcript = all.find((m) => /your conversation/.test(m));
  assert.ok(transcript, 'a transcript email arrived');
  assert.match(transcript, /You: Thank you!/);
  assert.match(transcript, /Dev Agent: Your invoice is attached/);
  assert.deepEqual(errors, []);
  assert.deepEqual(backErrors, []);
  agent.close();
  await later.close();
});
