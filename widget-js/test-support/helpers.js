'use strict';
// Test doubles shared by the unit tests: a scriptable WebSocket, a manual clock, storage; and
// the served bundles, from bundles.json.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

class FakeWebSocket {
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closed = null;
    FakeWebSocket.all.push(this);
  }
  static reset() { FakeWebSocket.all = []; }
  static last() { return FakeWebSocket.all[FakeWebSocket.all.length - 1]; }
  send(data) {
    if (this.closed) throw new Error('socket closed');
    this.sent.push(JSON.parse(data));
  }
  close(code) { this.closed = code || 1000; }
  // Driven by the test:
  open() { this.onopen && this.onopen({}); }
  receive(frame) { this.onmessage && this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) }); }
  drop(code = 1006) { this.closed = code; this.onclose && this.onclose({ code }); }
  types() { return this.sent.map((f) => f.type); }
}
FakeWebSocket.all = [];

/** setTimeout/clearTimeout that only fire when the test says so. */
function manualClock() {
  const timers = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) { timers.set(next, { fn, ms }); return next++; },
    clearTimeout(id) { timers.delete(id); },
    pending() { return [...timers.values()].map((t) => t.ms); },
    fire() {
      const [id, t] = [...timers.entries()][0];
      timers.delete(id);
      t.fn();
      return t.ms;
    }
  };
}

/** A localStorage look-alike; `broken` makes every call throw, like a blocked storage. */
function memoryStorage(broken) {
  const map = new Map();
  const guard = () => { if (broken) throw new Error('SecurityError'); };
  return {
    map,
    getItem(k) { guard(); return map.has(k) ? map.get(k) : null; },
    setItem(k, v) { guard(); map.set(k, String(v)); },
    removeItem(k) { guard(); map.delete(k); }
  };
}

const BUNDLES = require('../bundles.json');
const WIDGET_JS_DIR = path.join(__dirname, '..');

/** The files of a bundle ('widget' or 'console'), in order, relative to widget-js/. */
function bundleFiles(name) {
  const b = BUNDLES[name];
  if (!b || !Array.isArray(b.scope)) throw new Error('no bundle ' + name + ' in bundles.json');
  return b.modules.concat(b.scope);
}

/**
 * A bundle as the server serves it: its files joined by newlines; the widget without the lines
 * that are only a comment (as server/src/http/assets.rs strips them).
 */
function bundle(name) {
  const js = bundleFiles(name).map((f) => fs.readFileSync(path.join(WIDGET_JS_DIR, f), 'utf8')).join('\n');
  return name === 'widget' ? withoutCommentLines(js) : js;
}

// Drops the lines that are only a line comment, and block comments that start a line.
function withoutCommentLines(js) {
  let inBlock = false;
  return js.split('\n').filter((line) => {
    const s = line.trimStart();
    if (inBlock) return (inBlock = !line.includes('*/')) && false;
    if (s.startsWith('//')) return false;
    if (s.startsWith('/*')) return (inBlock = !s.includes('*/')) && false;
    return true;
  }).join('\n');
}

const loaded = {};

/**
 * What `require` would give for a bundle's own code: its modules are required (setting
 * globalThis.BatonProtocol and BatonRender, as in the browser), then its scope files, joined
 * as served, run in this context and return their module.exports. Once per process.
 */
function load(name) {
  if (loaded[name]) return loaded[name].exports;
  const b = BUNDLES[name];
  b.modules.forEach((f) => require(path.join(WIDGET_JS_DIR, f)));
  const code = b.scope.map((f) => fs.readFileSync(path.join(WIDGET_JS_DIR, f), 'utf8')).join('\n');
  const module = { exports: {} };
  // Line numbers in stack traces count from the first scope file.
  vm.compileFunction(code, ['module', 'exports'], { filename: path.join(WIDGET_JS_DIR, '[' + name + ' scope]') })(module, module.exports);
  loaded[name] = module;
  return module.exports;
}

module.exports = { bundle, withoutCommentLines, bundleFiles, load, FakeWebSocket, manualClock, memoryStorage };
