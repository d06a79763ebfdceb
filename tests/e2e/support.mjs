// End-to-end helpers: the real `baton` binary, a scripted OpenAI-compatible server, a static
// "host site" server on another origin, and Debian's Chromium through playwright-core.
// Everything binds to 127.0.0.1 and is stopped by the caller's `after` hooks.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import net from 'node:net';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(REPO, 'widget-js/package.json'));
const { chromium } = require('playwright-core');

export const BATON_BIN = process.env.BATON_BIN || join(REPO, 'target/debug/baton');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SHOTS = process.env.BATON_SHOTS || '/tmp/baton-shots';

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`baton exited with ${child.exitCode}`);
    try {
      const res = await fetch(url + '/healthz');
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error('baton did not answer /healthz in time');
}

/**
 * Starts `baton serve` from the repository root on `port` (a free one if omitted). `llm` is
 * a scripted server from startScriptedLlm, or null for the offline knowledge-base bot.
 * Logs are kept in memory and printed only if startup fails (or by `printLogs()`).
 */
export async function startBaton({ port, llm = null, env: extraEnv = {} } = {}) {
  if (!existsSync(BATON_BIN)) throw new Error(`no baton binary at ${BATON_BIN}: run \`cargo build\` in ${REPO} (or set BATON_BIN)`);
  port = port || (await freePort());
  const env = { ...process.env, BATON__SERVER__HOST: '127.0.0.1', BATON__SERVER__PORT: String(port) };
  for (const key of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'BATON__LLM__BASE_URL', 'BATON__LLM__API_KEY', 'BATON__LLM__MODEL', 'BATON__STORE__REDIS_URL']) delete env[key];
  if (llm) Object.assign(env, { BATON__LLM__BASE_URL: llm.baseUrl, BATON__LLM__API_KEY: 'test', BATON__LLM__MODEL: 'scripted' });
  // Each server keeps its record in its own folder: the repository's data/ is the developer's
  // own, and one test's archived conversations must not show up in another's reports.
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-data-'));
  Object.assign(env, { BATON__ARCHIVE__URL: `sqlite://${dataDir}/baton.sqlite`, BATON__ATTACHMENTS__PATH: join(dataDir, 'attachments') });
  Object.assign(env, extraEnv);
  const logs = [];
  const child = spawn(BATON_BIN, ['serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => logs.push(d));
  child.stderr.on('data', (d) => logs.push(d));
  const url = `http://127.0.0.1:${port}`;
  const printLogs = () => process.stderr.write(Buffer.concat(logs).toString().slice(-20000));
  try {
    await waitForHealth(url, child, 20000);
  } catch (e) {
    printLogs();
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const exited = new Promise((r) => child.once('exit', r)).then(() => rmSync(dataDir, { recursive: true, force: true }));
  return {
    url,
    port,
    printLogs,
    /** SIGKILL: the process dies the way a crash or an OOM kill would, sockets and all. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
}

/**
 * An OpenAI-compatible `POST /v1/chat/completions` that answers `reply`, streamed as real
 * SSE `chat.completion.chunk` lines, one word per chunk, `delayMs` apart, then `[DONE]`.
 * A `reply(request)` that returns `{ tool, arguments }` streams a call of that tool instead.
 */
export async function startScriptedLlm({ reply, delayMs = 60 } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const request = JSON.parse(body || '{}');
    requests.push(request);
    const id = 'chatcmpl-' + requests.length;
    const created = Math.floor(Date.now() / 1000);
    const text = typeof reply === 'function' ? reply(request) : reply;
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: 'chat.completion', created, model: 'scripted',
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'scripted',
      choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }));
    if (text && typeof text === 'object') {
      const call = { index: 0, id: 'call_' + requests.length, type: 'function', function: { name: text.tool, arguments: JSON.stringify(text.arguments || {}) } };
      res.write(chunk({ tool_calls: [call] }));
      res.write(chunk({}, 'tool_calls'));
      res.end('data: [DONE]\n\n');
      return;
    }
    for (const token of text.match(/\S+\s*/g) || []) {
      if (res.destroyed) return;
      await sleep(delayMs);
      res.write(chunk({ content: token }));
    }
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  });
  const port = await listen(server);
  return { baseUrl: `http://127.0.0.1:${port}/v1`, requests, close: () => closeServer(server) };
}

/** Serves fixed HTML pages (path → html) from another origin, like a customer's site. */
export async function startHostSite(pages) {
  const server = createServer((req, res) => {
    const html = pages[new URL(req.url, 'http://x').pathname];
    if (html == null) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function listen(server) {
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server.address().port)));
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((ok) => server.close(() => ok()));
}

/**
 * Debian's Chromium, headless. Playwright gives each launch a fresh temporary profile
 * (user-data-dir) and each context its own storage: one context is one visitor.
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  return {
    visitor: (options = {}) => browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...options }),
    /** An agent's screen: the console is laid out for a desktop. */
    agent: (options = {}) => browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', ...options }),
    close: () => browser.close()
  };
}

/** Collects page errors and console errors, so a test can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.location().url || '')) errors.push('console: ' + m.text());
  });
  return errors;
}

/** The widget's pieces, by accessible role and name (getByRole pierces the open shadow root). */
export function widget(page) {
  return {
    launcher: page.getByRole('button', { name: 'Open chat' }),
    input: page.getByRole('textbox', { name: 'Message' }),
    send: page.getByRole('button', { name: 'Send' }),
    human: page.getByRole('button', { name: 'Talk to a person' }),
    dialog: page.getByRole('dialog'),
    async ask(text) {
      await this.input.fill(text);
      await this.send.click();
    },
    visitorBubbles: page.locator('baton-widget .msg.visitor'),
    botBubbles: page.locator('baton-widget .msg.bot:not(.intro)')
  };
}

/**
 * A temporary copy of config/ whose local.toml lists `agents` ({id, name, token, teams,
 * max_chats}); pass `{ BATON_CONFIG: dir }` to startBaton. local.toml's [[agents]] replaces
 * the default list, so include the development agent if a test needs it. `handoff` sets keys
 * of the demo site's [handoff] table (e.g. { routing: 'manual' }). remove() deletes the copy.
 */
export function configWithAgents(agents, { handoff = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-config-'));
  cpSync(join(REPO, 'config'), dir, { recursive: true });
  if (Object.keys(handoff).length) setTomlKeys(join(dir, 'sites/demo.toml'), 'handoff', handoff);
  const toml = agents.map((a) => [
    '[[agents]]',
    `id = ${JSON.stringify(a.id)}`,
    `name = ${JSON.stringify(a.name || a.id)}`,
    `teams = ${JSON.stringify(a.teams || ['support'])}`,
    `max_chats = ${a.max_chats || 5}`,
    `token_sha256 = "${createHash('sha256').update(a.token).digest('hex')}"`,
    ...(a.role ? [`role = ${JSON.stringify(a.role)}`] : [])
  ].join('\n')).join('\n\n');
  writeFileSync(join(dir, 'local.toml'), toml + '\n');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A JSON value as a TOML value: strings, numbers, booleans, arrays, inline tables. */
function toml(v) {
  if (Array.isArray(v)) return '[' + v.map(toml).join(', ') + ']';
  if (v && typeof v === 'object') return '{ ' + Object.entries(v).map(([k, x]) => `${k} = ${toml(x)}`).join(', ') + ' }';
  return JSON.stringify(v);
}

/** Sets `keys` in `[table]` of a TOML file, adding the table if absent; a key written as an
 * array of tables (`[[table.key]]` sections) is replaced too. */
function setTomlKeys(path, table, keys) {
  let lines = readFileSync(path, 'utf8').split('\n');
  for (const k of Object.keys(keys)) {
    const kept = [];
    let skipping = false;
    for (const l of lines) {
      if (/^\s*\[/.test(l)) skipping = l.trim() === `[[${table}.${k}]]`;
      if (!skipping) kept.push(l);
    }
    lines = kept;
  }
  let start = lines.findIndex((l) => l.trim() === `[${table}]`);
  if (start < 0) {
    lines.push('', `[${table}]`);
    start = lines.length - 1;
  }
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const body = lines.slice(start + 1, end).filter((l) => !Object.keys(keys).some((k) => new RegExp(`^\\s*${k}\\s*=`).test(l)));
  const set = Object.entries(keys).map(([k, v]) => `${k} = ${toml(v)}`);
  lines.splice(start + 1, end - start - 1, ...set, ...body);
  writeFileSync(path, lines.join('\n'));
}

/**
 * A plain WebSocket client (the `ws` package: Node 20 has no global WebSocket) that keeps
 * every frame it receives; `next(pred)` waits for the first one (seen or to come) that
 * matches and has not been taken by an earlier next().
 */
async function openFramed(url, origin) {
  const WebSocket = require('ws');
  const ws = new WebSocket(url, origin ? { origin } : {});
  const frames = [];
  const taken = new Set();
  const waiters = [];
  ws.on('message', (data) => {
    const f = JSON.parse(String(data));
    frames.push(f);
    for (const w of waiters.slice()) w();
  });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  return {
    frames,
    send: (frame) => ws.send(JSON.stringify(frame)),
    next(pred, timeoutMs = 10000) {
      return new Promise((ok, fail) => {
        const check = () => {
          const i = frames.findIndex((f, i) => !taken.has(i) && pred(f));
          if (i < 0) return false;
          taken.add(i);
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          ok(frames[i]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          fail(new Error('no matching frame in ' + timeoutMs + ' ms; got ' + JSON.stringify(frames.map((f) => f.type))));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    close: () => ws.close()
  };
}

/** A visitor as a plain WebSocket client: says hello and keeps the `welcome`. */
export async function connectVisitor(batonUrl, { site = 'demo', hello = {} } = {}) {
  const visitor = await openFramed(batonUrl.replace(/^http/, 'ws') + '/v1/visitor/ws?site=' + site, batonUrl);
  visitor.send({ type: 'hello', last_seq: 0, locale: 'en', page: { url: batonUrl + '/', title: 'Northwind Goods' }, ...hello });
  visitor.welcome = await visitor.next((f) => f.type === 'welcome');
  return visitor;
}

/** An agent as a plain WebSocket client: authenticates and keeps the `ready`. */
export async function connectAgent(batonUrl, token) {
  const agent = await openFramed(batonUrl.replace(/^http/, 'ws') + '/v1/agent/ws');
  agent.send({ type: 'auth', token });
  agent.ready = await agent.next((f) => f.type === 'ready');
  return agent;
}
