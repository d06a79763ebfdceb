'use strict';
// Test doubles shared by the unit tests: a scriptable WebSocket, a manual clock, storage.

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

/** The files of a bundle as the server joins them (server/src/routes.rs). */
function bundle(...files) {
  const fs = require('node:fs');
  const path = require('node:path');
  return files.map((f) => fs.readFileSync(path.join(__dirname, '..', f), 'utf8')).join('\n');
}

module.exports = { bundle, FakeWebSocket, manualClock, memoryStorage };
