/*
 * Baton protocol client, shared by the visitor widget and the agent console (see
 * ../README.md). Across sockets it keeps the resume token, the newest seq per
 * conversation (dedupe + resume), and the outbox: frames with a client_id, persisted until
 * acked and re-sent on every reconnect. Classic script: served in front of widget.js.
 */
(function (root) {
  'use strict';

  /** Reconnect delays in ms, by attempt (1-based); the last one repeats. */
  var BACKOFF_MS = [100, 500, 1000, 2000, 5000];
  /** Close codes after which reconnecting cannot help. */
  var CLOSE_BAD_TOKEN = 4001;
  var CLOSE_REFUSED = 4003;

  function backoff(tries) {
    return BACKOFF_MS[Math.min(Math.max(tries, 1), BACKOFF_MS.length) - 1];
  }

  /** Phoenix's Timer: schedule() waits calc(tries + 1) ms; reset() once connected. */
  function Timer(callback, calc, clock) {
    this.callback = callback;
    this.calc = calc || backoff;
    this.clock = clock || root;
    this.tries = 0;
    this.handle = null;
  }
  Timer.prototype.clear = function () {
    if (this.handle != null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  };
  Timer.prototype.reset = function () {
    this.tries = 0;
    this.clear();
  };
  Timer.prototype.schedule = function () {
    var self = this;
    this.clear();
    this.handle = this.clock.setTimeout(function () {
      self.handle = null;
      self.tries += 1;
      self.callback();
    }, this.calc(this.tries + 1));
  };

  /** localStorage when it works, else (blocked, full, private mode) an in-memory map. */
  function probeStorage() {
    try {
      var s = root.localStorage;
      s.setItem('baton:probe', '1');
      s.removeItem('baton:probe');
      return s;
    } catch (e) {
      return null;
    }
  }

  /** Namespaced JSON storage (`baton:SITE:key`); any exception switches it to memory. */
  function Store(prefix, backing) {
    this.prefix = prefix || 'baton:';
    this.backing = backing === undefined ? probeStorage() : backing;
    this.memory = {};
  }
  Store.prototype.get = function (key) {
    if (this.backing) {
      try {
        var raw = this.backing.getItem(this.prefix + key);
        return raw == null ? null : JSON.parse(raw);
      } catch (e) {
        this.backing = null;
      }
    }
    return Object.prototype.hasOwnProperty.call(this.memory, key) ? this.memory[key] : null;
  };
  Store.prototype.set = function (key, value) {
    this.memory[key] = value;
    if (this.backing) {
      try {
        this.backing.setItem(this.prefix + key, JSON.stringify(value));
      } catch (e) {
        this.backing = null;
      }
    }
  };
  Store.prototype.remove = function (key) {
    delete this.memory[key];
    if (this.backing) {
      try {
        this.backing.removeItem(this.prefix + key);
      } catch (e) {
        this.backing = null;
      }
    }
  };

  function uuid() {
    var c = root.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var s = '';
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  /** Bookkeeping per frame type, before listeners; events have passed dedupe already. */
  var HANDLERS = {
    welcome: function (c, f) {
      var previous = c.store.get('conversation');
      if (previous && previous !== f.conversation_id) c.forget(previous);
      if (f.token) c.store.set('token', f.token);
      if (f.conversation_id) c.store.set('conversation', f.conversation_id);
      c.ready(f);
    },
    ready: function (c, f) {
      c.ready(f);
    },
    ack: function (c, f) {
      c.settle(f.client_id);
    },
    message: function (c, f) {
      if (f.client_id) c.settle(f.client_id);
    }
  };

  /**
   * opts: url; hello(client) -> first frame (default: visitor hello from the stored token
   * plus helloExtra()); store or prefix; WebSocket and clock (tests inject fakes);
   * keep(frame, readyFrame) -> false drops an outbox frame before the flush (the console: a
   * chat that is no longer the agent's after a reconnect).
   */
  function Client(opts) {
    var self = this;
    this.url = opts.url;
    this.WS = opts.WebSocket || root.WebSocket;
    this.store = opts.store || new Store(opts.prefix);
    this.hello = opts.hello || visitorHello(opts.helloExtra);
    this.keep = opts.keep || null;
    this.listeners = {};
    this.seen = {};
    this.pending = [];
    this.ws = null;
    this.isReady = false;
    this.stopped = true;
    this.status = 'idle';
    this.timer = new Timer(function () { self.open(); }, opts.backoff, opts.clock);
    if (typeof root.addEventListener === 'function') {
      root.addEventListener('online', function () {
        if (!self.stopped && !self.ws) {
          self.timer.reset();
          self.open();
        }
      });
    }
  }

  function visitorHello(extra) {
    return function (c) {
      var token = c.store.get('token');
      var frame = { type: 'hello', last_seq: 0 };
      if (token) {
        frame.token = token;
        frame.last_seq = c.lastSeq(c.store.get('conversation'));
      }
      var more = extra ? extra() : null;
      for (var k in more) if (more[k] != null) frame[k] = more[k];
      return frame;
    };
  }

  Client.prototype.on = function (type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
    return this;
  };
  Client.prototype.emit = function (type, data) {
    var list = this.listeners[type] || [];
    for (var i = 0; i < list.length; i++) {
      try {
        list[i](data, this);
      } catch (e) {
        if (root.console) root.console.error(e);
      }
    }
  };
  Client.prototype.setStatus = function (status) {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  };

  /** The newest seq dispatched for a conversation (0 if none). */
  Client.prototype.lastSeq = function (conversationId) {
    return (conversationId && this.seen[conversationId]) || 0;
  };
  /** True the first time an event is seen; records it. */
  Client.prototype.mark = function (f) {
    var key = f.conversation_id || '';
    if (f.seq <= (this.seen[key] || 0)) return false;
    this.seen[key] = f.seq;
    return true;
  };
  Client.prototype.forget = function (conversationId) {
    delete this.seen[conversationId];
  };

  Client.prototype.connect = function () {
    this.stopped = false;
    if (!this.ws) {
      this.timer.reset();
      this.open();
    }
    return this;
  };
  Client.prototype.disconnect = function () {
    this.stopped = true;
    this.timer.clear();
    var ws = this.ws;
    this.ws = null;
    this.isReady = false;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
      try { ws.close(1000); } catch (e) { /* already closed */ }
    }
    this.setStatus('idle');
  };
  /** Drop the conversation (token, seqs) and start a fresh one; the outbox is kept. */
  Client.prototype.reset = function () {
    var running = !this.stopped;
    this.disconnect();
    this.store.remove('token');
    this.store.remove('conversation');
    this.seen = {};
    if (running) this.connect();
  };

  Client.prototype.open = function () {
    if (this.stopped || this.ws) return;
    var self = this;
    var ws;
    try {
      ws = new this.WS(this.url);
    } catch (e) {
      this.setStatus('closed');
      this.timer.schedule();
      return;
    }
    this.ws = ws;
    this.isReady = false;
    this.setStatus('connecting');
    ws.onopen = function () {
      if (self.ws === ws) self.raw(self.hello(self));
    };
    ws.onmessage = function (e) {
      if (self.ws !== ws) return;
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (f && typeof f.type === 'string') self.dispatch(f);
    };
    ws.onclose = function (e) {
      if (self.ws !== ws) return;
      self.ws = null;
      self.isReady = false;
      self.closed(e && e.code);
    };
  };

  Client.prototype.closed = function (code) {
    this.setStatus('closed');
    if (code === CLOSE_BAD_TOKEN || code === CLOSE_REFUSED) {
      this.stopped = true;
      this.timer.clear();
      if (code === CLOSE_BAD_TOKEN) {
        var cid = this.store.get('conversation');
        this.store.remove('token');
        this.store.remove('conversation');
        if (cid) this.forget(cid);
      }
      this.emit('stopped', { code: code });
      return;
    }
    if (!this.stopped) this.timer.schedule();
  };

  Client.prototype.dispatch = function (f) {
    if (typeof f.seq === 'number' && !this.mark(f)) return;
    var handle = HANDLERS[f.type];
    if (handle) handle(this, f);
    this.emit(f.type, f);
    this.emit('frame', f);
  };

  /** The socket said welcome/ready: reset the backoff and flush what waited. */
  Client.prototype.ready = function (f) {
    var keep = this.keep;
    this.timer.reset();
    this.isReady = true;
    this.setStatus('open');
    var box = keep ? this.prune(function (x) { return keep(x, f); }) : this.outbox();
    for (var i = 0; i < box.length; i++) this.raw(box[i]);
    var queued = this.pending;
    this.pending = [];
    for (var j = 0; j < queued.length; j++) this.raw(queued[j]);
  };

  Client.prototype.raw = function (frame) {
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  };

  /** Sends now or once ready; `volatile` frames (typing) are dropped instead of queued. */
  Client.prototype.send = function (frame, volatile) {
    if (this.ws && this.isReady) return this.raw(frame);
    if (!volatile) this.pending.push(frame);
    return false;
  };

  /** Outbox (persisted): frames with a client_id, awaiting their ack. */
  Client.prototype.outbox = function () {
    var box = this.store.get('outbox');
    return Array.isArray(box) ? box : [];
  };
  /** Gives the frame a client_id, keeps it until acked, sends it; returns the frame. */
  Client.prototype.sendMessage = function (frame) {
    if (!frame.client_id) frame.client_id = uuid();
    var box = this.outbox();
    box.push(frame);
    this.store.set('outbox', box);
    if (this.ws && this.isReady) this.raw(frame);
    return frame;
  };
  /** Sends the outbox again (after `error unavailable`). */
  Client.prototype.resend = function () {
    if (this.ws && this.isReady) this.outbox().forEach(this.raw, this);
  };
  Client.prototype.settle = function (clientId) {
    this.prune(function (f) { return f.client_id !== clientId; });
  };
  /** Keeps the outbox frames for which keep(frame) is true; returns them. */
  Client.prototype.prune = function (keep) {
    var box = this.outbox();
    var left = box.filter(keep);
    if (left.length !== box.length) this.store.set('outbox', left);
    return left;
  };

  root.BatonProtocol = {
    Client: Client,
    Timer: Timer,
    Store: Store,
    backoff: backoff,
    uuid: uuid,
    HANDLERS: HANDLERS,
    BACKOFF_MS: BACKOFF_MS
  };
  if (typeof module === 'object' && module.exports) module.exports = root.BatonProtocol;
})(typeof globalThis !== 'undefined' ? globalThis : this);
