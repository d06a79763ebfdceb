/*
 * Baton agent console, served at /console/ (index.html, console.css) with /console/console.js
 * = src/protocol.js + "\n" + this file: a classic script, no build step. It speaks the agent
 * socket of shared/protocol.md through the protocol client it shares with the widget.
 *
 * # Layout
 * - helpers: labels, formatting, queue order, transcript merge, the key map. Pure, exported
 *   for the unit tests.
 * - Alerts: the desktop notification and chime for a new escalation, only once the agent
 *   has turned them on (a click: browsers allow permission prompts and audio only then).
 * - Desk: the model. Owns the protocol client, the queue, the agent's chats and what is
 *   pending; driven by frames through a table of handlers; knows nothing of the DOM.
 * - View: builds the page once and updates its parts from the desk. Network text goes in
 *   as text nodes only (a small inline formatter builds <strong>, <code> and safe links).
 * - boot: runs when the page has #baton-console.
 */
(function (root) {
  'use strict';

  var TITLE = 'Baton console';
  /** After this long without a keystroke the agent's typing indicator turns off. */
  var TYPING_IDLE_MS = 3000;
  /** Waiting times are redrawn this often. */
  var TICK_MS = 1000;
  /** Waits longer than these turn the queue timer amber, then red. */
  var WAIT_WARN_S = 120;
  var WAIT_LATE_S = 300;
  /** How long a notice (toast) stays up. */
  var NOTICE_MS = 6000;
  /** Agents' messages follow the visitors' limit. */
  var MAX_TEXT = 4000;

  // ---- helpers ------------------------------------------------------------------------

  /** Escalation reasons: a short label for the chip, a tone (colour) and one sentence. */
  var REASONS = {
    explicit_request: ['Asked for a person', 'blue', 'The visitor asked to talk to a person.'],
    negative_sentiment: ['Upset visitor', 'red', 'The visitor\u2019s messages turned negative.'],
    low_confidence: ['Bot unsure', 'amber', 'The knowledge base did not cover the question well.'],
    repeated_question: ['Asked again', 'orange', 'The visitor repeated a question the bot had answered.'],
    topic: ['Sensitive topic', 'purple', 'The conversation touched a topic that needs a person.'],
    bot_error: ['Bot error', 'red', 'The bot failed to answer.'],
    max_turns: ['Long chat', 'slate', 'The conversation went on for many turns with the bot.'],
    transfer: ['Transferred', 'teal', 'Another agent transferred this chat.']
  };

  function reasonInfo(reason) {
    var r = REASONS[reason];
    if (r) return { label: r[0], tone: r[1], text: r[2] };
    var label = reason ? String(reason).replace(/_/g, ' ') : 'No reason given';
    return { label: label.charAt(0).toUpperCase() + label.slice(1), tone: 'slate', text: '' };
  }

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** Elapsed milliseconds → "45s", "3m 05s", "1h 02m". */
  function formatWait(ms) {
    var s = Math.max(0, Math.floor((ms || 0) / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + pad(m % 60) + 'm';
  }

  /** '' | 'warn' | 'late', for the wait timer's colour. */
  function waitTone(ms) {
    var s = (ms || 0) / 1000;
    return s >= WAIT_LATE_S ? 'late' : s >= WAIT_WARN_S ? 'warn' : '';
  }

  function since(at, now) {
    var t = Date.parse(at);
    return isNaN(t) ? 0 : Math.max(0, now - t);
  }

  /** Sentiment (a number in [-1, 1], or a label) → {label, tone}; null when unknown. */
  function sentimentInfo(value) {
    if (value == null || value === '') return null;
    if (typeof value === 'string') {
      var tone = /neg|angry|upset|frustrat/i.test(value) ? 'neg' : /pos|happy/i.test(value) ? 'pos' : 'neu';
      return { label: value.replace(/_/g, ' '), tone: tone };
    }
    if (typeof value !== 'number' || isNaN(value)) return null;
    if (value <= -0.5) return { label: 'very negative', tone: 'neg' };
    if (value < -0.15) return { label: 'negative', tone: 'neg' };
    if (value <= 0.15) return { label: 'neutral', tone: 'neu' };
    return { label: 'positive', tone: 'pos' };
  }

  /**
   * Queue order, the server's: chats given back by an agent first (`returned`), then higher
   * priority, then the longest wait. `position` is not used: it counts within one line (site
   * and team), so two chats of different lines can both be first.
   */
  function sortQueue(items) {
    return (items || []).slice().sort(function (a, b) {
      if (!!a.returned !== !!b.returned) return a.returned ? -1 : 1;
      var qa = typeof a.priority === 'number' ? a.priority : 0;
      var qb = typeof b.priority === 'number' ? b.priority : 0;
      if (qa !== qb) return qb - qa;
      return (Date.parse(a.waiting_since) || 0) - (Date.parse(b.waiting_since) || 0);
    });
  }

  /** Events of one conversation, once each by seq, in order. */
  function mergeEvents(list, incoming) {
    var seen = {};
    var out = [];
    (list || []).concat(incoming || []).forEach(function (e) {
      if (!e || typeof e.seq !== 'number' || seen[e.seq]) return;
      seen[e.seq] = true;
      out.push(e);
    });
    return out.sort(function (a, b) { return a.seq - b.seq; });
  }

  /** A queue item's last message: a string, or {from, text}. */
  function lastMessageText(m) {
    if (m == null) return '';
    if (typeof m === 'string') return m;
    return m.text || '';
  }

  function visitorLabel(view) {
    var v = (view && view.visitor) || {};
    if (v.name) return String(v.name);
    if (v.email) return String(v.email);
    var id = String((view && (view.conversation_id || view.id)) || '');
    return 'Visitor ' + id.replace(/[^0-9a-z]/gi, '').slice(0, 4).toUpperCase();
  }

  /** The document title with the unread count in front: "(3) Baton console". */
  function titleWith(count, base) {
    base = base || TITLE;
    return count > 0 ? '(' + count + ') ' + base : base;
  }

  /**
   * A keydown → an action name, or null. ctx: composer (focus in the reply box), typing
   * (focus in another field), queue (focus on the queue), help (the shortcut sheet is open).
   * Alt shortcuts use e.code, so they work on layouts where Alt+letter types a symbol.
   */
  var ALT_KEYS = {
    KeyN: 'note', KeyR: 'resolve', KeyB: 'handback', KeyT: 'transfer', KeyQ: 'queue',
    KeyW: 'close', KeyC: 'canned', ArrowDown: 'next-chat', ArrowUp: 'prev-chat'
  };

  function keyAction(e, ctx) {
    ctx = ctx || {};
    var mod = e.ctrlKey || e.metaKey;
    if (e.isComposing) return null;
    if (e.altKey && !mod) {
      var digit = /^Digit([1-9])$/.exec(e.code || '');
      if (digit) return 'suggest:' + digit[1];
      return ALT_KEYS[e.code] || null;
    }
    if (e.key === 'Escape' && ctx.help) return 'help';
    if (ctx.composer) {
      if (e.key === 'Enter' && (mod || !e.shiftKey)) return 'send';
      return e.key === 'Escape' ? 'queue' : null;
    }
    if (ctx.typing) return e.key === 'Escape' ? 'queue' : null;
    if (mod) return null;
    if (e.key === 'j' || (ctx.queue && e.key === 'ArrowDown')) return 'queue-next';
    if (e.key === 'k' || (ctx.queue && e.key === 'ArrowUp')) return 'queue-prev';
    if (ctx.queue && e.key === 'Enter') return 'take';
    if (e.key === 'r') return 'reply';
    if (e.key === '?') return 'help';
    return null;
  }

  /** The safe Markdown subset and the DOM builder, shared with the widget (render.js). */
  var R = root.BatonRender || (typeof require === 'function' ? require('../src/render.js') : null);
  var safeUrl = R.safeUrl;

  // ---- alerts -------------------------------------------------------------------------

  /**
   * Desktop notifications and a chime for new escalations. Off until the agent clicks
   * "Enable alerts" (remembered for the session). The chime works without notification
   * permission; a denied permission leaves the chime on and says so.
   * opts: Notification, AudioContext (constructors, or absent), store, isHidden().
   */
  function Alerts(opts) {
    this.N = opts.Notification || null;
    this.Audio = opts.AudioContext || null;
    this.store = opts.store;
    this.isHidden = opts.isHidden || function () { return false; };
    this.on = !!this.store.get('alerts');
    this.audio = null;
    this.shown = [];
  }

  /** 'off' | 'on' | 'sound-only' (notifications denied or unsupported) | 'ask' (pending). */
  Alerts.prototype.state = function () {
    if (!this.on) return 'off';
    var p = this.N ? this.N.permission : 'unsupported';
    if (p === 'granted') return 'on';
    return p === 'default' ? 'ask' : 'sound-only';
  };

  /** From a click: asks for permission (if needed), unlocks audio. Resolves to state(). */
  Alerts.prototype.enable = function () {
    var self = this;
    this.on = true;
    this.store.set('alerts', true);
    this.unlockAudio();
    var N = this.N;
    if (!N || N.permission !== 'default' || typeof N.requestPermission !== 'function') {
      return Promise.resolve(this.state());
    }
    return new Promise(function (resolve) {
      var done = function () { resolve(self.state()); };
      var p;
      try { p = N.requestPermission(done); } catch (e) { done(); return; }
      if (p && typeof p.then === 'function') p.then(done, done);
    });
  };

  Alerts.prototype.disable = function () {
    this.on = false;
    this.store.set('alerts', false);
  };

  Alerts.prototype.unlockAudio = function () {
    if (this.audio || !this.Audio) return;
    try {
      this.audio = new this.Audio();
      if (this.audio.state === 'suspended' && this.audio.resume) this.audio.resume();
    } catch (e) {
      this.audio = null;
    }
  };

  /** Two short rising tones, made in code (no audio file). */
  Alerts.prototype.chime = function () {
    var ctx = this.audio;
    if (!ctx) return false;
    try {
      var t = ctx.currentTime;
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(660, t);
      osc.frequency.setValueAtTime(990, t + 0.13);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.38);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.4);
      return true;
    } catch (e) {
      return false;
    }
  };

  /** A new escalation: chime, and a desktop notification while the page is not in view. */
  Alerts.prototype.announce = function (item, onClick) {
    if (!this.on) return;
    this.chime();
    if (!this.N || this.N.permission !== 'granted' || !this.isHidden()) return;
    var info = reasonInfo(item.reason);
    try {
      var n = new this.N('New chat: ' + info.label, {
        body: String(item.summary || lastMessageText(item.last_message) || item.site || ''),
        tag: 'baton-' + item.conversation_id
      });
      n.onclick = function () {
        if (root.focus) root.focus();
        if (onClick) onClick(item.conversation_id);
        if (n.close) n.close();
      };
      this.shown.push(n);
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  };

  // ---- desk (the model) ---------------------------------------------------------------

  function newChat(id) {
    return {
      id: id, site: '', state: 'agent', visitor: {}, reason: null, summary: '', signals: {},
      suggestions: [], canned: [], events: [], pending: [], streams: {}, typing: false,
      unread: 0, ended: null, closing: null, draft: '', mode: 'reply', version: 0
    };
  }

  /** Why a chat is no longer the agent's, from its state (null: it still is). */
  function endedBy(state, agent, me) {
    if (state === 'agent') return agent && me && agent.id && agent.id !== me.id ? 'transferred' : null;
    return state === 'bot' ? 'handed_back' : state === 'resolved' ? 'resolved' : state === 'queued' ? 'transferred' : 'gone';
  }

  /** Frame handlers, by type; conversation events (with seq) go to event(). */
  var ON = {
    ready: function (d, f) { d.onReady(f); },
    queue_snapshot: function (d, f) { d.setQueue(f.items || []); },
    assigned: function (d, f) { if (f.conversation) d.absorb(f.conversation); },
    left_message: function (d, f) { if (f.message) d.addLeft([f.message], true); },
    bot_delta: function (d, f) {
      d.withChat(f.conversation_id, function (c) {
        c.streams[f.reply_id] = (c.streams[f.reply_id] || '') + (f.text || '');
      });
    },
    bot_cancelled: function (d, f) {
      d.withChat(f.conversation_id, function (c) { delete c.streams[f.reply_id]; });
    },
    typing: function (d, f) {
      if (f.from === 'agent') return;
      d.withChat(f.conversation_id, function (c) { c.typing = !!f.on; });
    },
    suggestions: function (d, f) {
      d.withChat(f.conversation_id, function (c) { c.suggestions = (f.replies || []).map(String); });
    },
    error: function (d, f) { d.onError(f); }
  };

  /**
   * opts: url (ws://…/v1/agent/ws), store (a BatonProtocol.Store on sessionStorage),
   * WebSocket and clock (tests), alerts (an Alerts), now().
   */
  function Desk(opts) {
    this.P = root.BatonProtocol;
    this.opts = opts;
    this.store = opts.store;
    this.now = opts.now || Date.now;
    this.alerts = opts.alerts || null;
    this.client = null;
    this.listeners = [];
    this.reset();
  }

  Desk.prototype.reset = function () {
    this.agent = null;
    this.status = this.store.get('status') === 'away' ? 'away' : 'online';
    this.conn = 'idle';
    this.signedIn = false;
    this.queue = [];
    this.known = null;
    this.unseen = {};
    this.chats = {};
    this.order = [];
    this.active = null;
    this.selected = null;
    this.accepting = {};
    this.dropped = [];
    this.left = [];
    this.visible = true;
    this.notice = null;
  };

  Desk.prototype.onChange = function (fn) {
    this.listeners.push(fn);
  };
  Desk.prototype.changed = function (what, id) {
    for (var i = 0; i < this.listeners.length; i++) this.listeners[i](what, id);
  };

  // -- session

  /** Starts with the token kept for this tab's session, if any; true if it did. */
  Desk.prototype.resume = function () {
    var token = this.store.get('token');
    if (token) this.start(token);
    return !!token;
  };

  Desk.prototype.signIn = function (token) {
    token = String(token || '').trim();
    if (!token) return false;
    this.store.set('token', token);
    this.start(token);
    return true;
  };

  Desk.prototype.start = function (token) {
    var self = this;
    var o = this.opts;
    if (this.client) this.client.disconnect();
    this.signedIn = true;
    this.client = new this.P.Client({
      url: o.url,
      WebSocket: o.WebSocket,
      clock: o.clock,
      store: this.store,
      hello: function () { return { type: 'auth', token: token }; },
      keep: function (frame, ready) { return self.keeps(frame, ready); }
    });
    this.client.on('status', function (s) {
      self.conn = s;
      self.changed('conn');
    });
    this.client.on('stopped', function (e) { self.stopped(e.code); });
    this.client.on('frame', function (f) { self.dispatch(f); });
    this.client.connect();
    this.changed('session');
  };

  Desk.prototype.signOut = function (message) {
    if (this.client) this.client.disconnect();
    this.client = null;
    this.store.remove('token');
    this.store.remove('outbox');
    this.reset();
    this.signInError = message || null;
    this.changed('session');
  };

  Desk.prototype.stopped = function (code) {
    this.signOut(code === 4001 ? 'That token was not accepted. Check it and sign in again.'
      : 'The server refused this console (code ' + code + ').');
  };

  // -- frames

  Desk.prototype.dispatch = function (f) {
    var handle = ON[f.type];
    if (handle) handle(this, f);
    else if (typeof f.seq === 'number' && f.conversation_id) this.event(f);
    else if (f.type === 'ack') this.changed('chat', this.chatOfClientId(f.client_id));
  };

  /** Outbox filter on every ready: only chats that are still this agent's. */
  Desk.prototype.keeps = function (frame, ready) {
    var ok = (ready.conversations || []).some(function (v) {
      return v.conversation_id === frame.conversation_id && v.state === 'agent';
    });
    if (!ok) this.dropped.push(frame);
    return ok;
  };

  Desk.prototype.onReady = function (f) {
    var self = this;
    var first = !this.agent;
    this.agent = f.agent || this.agent || {};
    var views = f.conversations || [];
    var live = {};
    views.forEach(function (v) {
      live[v.conversation_id] = true;
      self.absorb(v, true);
    });
    this.order.forEach(function (id) {
      var c = self.chats[id];
      if (!live[id] && !c.ended) self.bump(c, function () { c.ended = 'gone'; });
    });
    this.restorePending();
    this.addLeft(f.left_messages || [], false);
    this.setQueue(f.queue || []);
    if (this.status !== 'online') this.client.send({ type: 'status', status: this.status });
    if (first && !this.active && this.order.length) this.activate(this.order[0]);
    this.changed('agent');
  };

  /** Pending bubbles for the outbox (after a reload) and for frames the ready dropped. */
  Desk.prototype.restorePending = function () {
    var self = this;
    this.client.outbox().forEach(function (frame) {
      var c = self.chats[frame.conversation_id];
      if (c && !c.pending.some(function (p) { return p.client_id === frame.client_id; })) {
        c.pending.push({ kind: 'message', client_id: frame.client_id, text: frame.text });
        c.version++;
      }
    });
    this.dropped.splice(0).forEach(function (frame) {
      var c = self.chats[frame.conversation_id];
      if (!c) return;
      c.pending.forEach(function (p) { if (p.client_id === frame.client_id) p.failed = true; });
      c.version++;
      self.say('A message could not be sent: that chat is no longer yours.', 'warn');
    });
  };

  Desk.prototype.setQueue = function (items) {
    var self = this;
    var fresh = [];
    var known = {};
    items.forEach(function (it) {
      known[it.conversation_id] = true;
      if (self.known && !self.known[it.conversation_id] && !self.chats[it.conversation_id]) fresh.push(it);
    });
    this.known = known;
    this.queue = sortQueue(items.filter(function (it) {
      var c = self.chats[it.conversation_id];
      return !c || c.ended;
    }));
    for (var id in this.unseen) if (!known[id]) delete this.unseen[id];
    if (!this.queue.some(function (it) { return it.conversation_id === self.selected; })) {
      this.selected = this.queue.length ? this.queue[0].conversation_id : null;
    }
    fresh.forEach(function (it) {
      if (!self.visible) self.unseen[it.conversation_id] = true;
      if (self.alerts) self.alerts.announce(it, function (cid) { self.select(cid); });
    });
    this.changed('queue');
  };

  /** Messages visitors left when no one could take the chat: newest first, once each. */
  Desk.prototype.addLeft = function (messages, live) {
    var self = this;
    var have = {};
    this.left.forEach(function (m) { have[m.conversation_id + '|' + m.at] = true; });
    messages.forEach(function (m) {
      if (have[m.conversation_id + '|' + m.at]) return;
      self.left.push(m);
      if (live) self.say('New message left by ' + (m.email || 'a visitor') + '.', 'info');
    });
    this.left.sort(function (a, b) { return (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0); });
    this.changed('left');
  };

  Desk.prototype.withChat = function (id, fn) {
    var c = this.chats[id];
    if (c) this.bump(c, function () { fn(c); });
  };

  Desk.prototype.bump = function (c, fn) {
    fn();
    c.version++;
    this.changed('chat', c.id);
  };

  /** A conversation view (ready or assigned): new chat, or merged into the one we have. */
  Desk.prototype.absorb = function (view, quiet) {
    var self = this;
    var id = view.conversation_id;
    var c = this.chats[id];
    var isNew = !c;
    if (isNew) {
      c = this.chats[id] = newChat(id);
      this.order.push(id);
    }
    ['site', 'state', 'visitor', 'reason', 'detail', 'summary', 'signals'].forEach(function (k) {
      if (view[k] != null) c[k] = view[k];
    });
    if (Array.isArray(view.suggestions)) c.suggestions = view.suggestions.map(String);
    if (Array.isArray(view.canned)) c.canned = view.canned;
    c.events = mergeEvents(c.events, view.events);
    c.events.forEach(function (e) { settlePending(c, e); });
    c.ended = endedBy(c.state, lastAgent(c.events), this.agent);
    if (!c.ended) c.closing = null;
    c.version++;
    this.queue = this.queue.filter(function (it) { return it.conversation_id !== id; });
    if (this.selected === id) this.selected = this.queue.length ? this.queue[0].conversation_id : null;
    var wanted = this.accepting[id];
    delete this.accepting[id];
    if (isNew && !quiet && !wanted) {
      // Routed to this agent without asking: it needs their attention like a new escalation.
      if (!this.visible) c.unread = Math.max(c.unread, 1);
      if (this.alerts) this.alerts.announce(view, function (cid) { self.activate(cid); });
    }
    if (wanted || (!quiet && !this.active)) this.activate(id);
    this.changed(isNew ? 'chats' : 'chat', id);
    this.changed('queue');
  };

  function lastAgent(events) {
    for (var i = events.length - 1; i >= 0; i--) {
      if (events[i].type === 'state') return events[i].state === 'agent' ? events[i].agent : null;
    }
    return null;
  }

  /** An event that answers something pending: our message (client_id) or note (text). */
  function settlePending(c, e) {
    if (!c.pending.length) return;
    var i = -1;
    if (e.type === 'message' && e.client_id) {
      for (var j = 0; j < c.pending.length; j++) if (c.pending[j].client_id === e.client_id) i = j;
    } else if (e.type === 'note') {
      for (var k = 0; k < c.pending.length && i < 0; k++) {
        if (c.pending[k].kind === 'note' && c.pending[k].text === e.text) i = k;
      }
    }
    if (i >= 0) c.pending.splice(i, 1);
  }

  Desk.prototype.event = function (f) {
    var c = this.chats[f.conversation_id];
    if (!c) return;
    var before = c.events.length;
    c.events = mergeEvents(c.events, [f]);
    if (c.events.length === before) return;
    settlePending(c, f);
    if (f.type === 'message') {
      delete c.streams[f.id];
      if (f.from === 'visitor') {
        c.typing = false;
        if (!this.looking(c.id)) c.unread++;
      }
    } else if (f.type === 'state') {
      c.state = f.state;
      if (f.reason) c.reason = f.reason;
      c.ended = endedBy(f.state, f.agent, this.agent);
      if (c.ended) c.typing = false;
      else c.closing = null;
    }
    c.version++;
    this.changed('chat', c.id);
  };

  Desk.prototype.chatOfClientId = function (clientId) {
    for (var id in this.chats) {
      if (this.chats[id].pending.some(function (p) { return p.client_id === clientId; })) return id;
    }
    return null;
  };

  Desk.prototype.onError = function (f) {
    var text = {
      already_taken: 'Another agent took that chat first.',
      forbidden: 'That chat is not yours any more.',
      not_found: 'That chat no longer exists.',
      rate_limited: 'Slow down: too many messages at once.',
      too_long: 'That message is too long.'
    }[f.code] || f.message || 'Something went wrong (' + f.code + ').';
    if (f.code === 'already_taken') this.accepting = {};
    this.say(text, 'error');
  };

  Desk.prototype.say = function (text, tone) {
    this.notice = { text: text, tone: tone || 'info', at: this.now() };
    this.changed('notice');
  };

  // -- what the agent does

  Desk.prototype.send = function (frame, volatile) {
    return this.client ? this.client.send(frame, volatile) : false;
  };

  Desk.prototype.setStatus = function (status) {
    this.status = status === 'away' ? 'away' : 'online';
    this.store.set('status', this.status);
    this.send({ type: 'status', status: this.status });
    this.changed('agent');
  };

  Desk.prototype.select = function (id) {
    if (this.chats[id] && !this.chats[id].ended) return this.activate(id);
    this.selected = id;
    this.changed('queue');
  };

  /** Moves the queue selection by delta (wrapping); returns the selected id. */
  Desk.prototype.move = function (delta) {
    var q = this.queue;
    if (!q.length) return null;
    var i = -1;
    for (var j = 0; j < q.length; j++) if (q[j].conversation_id === this.selected) i = j;
    i = i < 0 ? (delta > 0 ? 0 : q.length - 1) : (i + delta + q.length) % q.length;
    this.selected = q[i].conversation_id;
    this.changed('queue');
    return this.selected;
  };

  Desk.prototype.take = function (id) {
    id = id || this.selected;
    if (!id) return false;
    this.accepting[id] = true;
    this.send({ type: 'accept', conversation_id: id });
    this.changed('queue');
    return true;
  };

  Desk.prototype.activate = function (id) {
    if (!this.chats[id]) return;
    this.active = id;
    if (this.visible) this.chats[id].unread = 0;
    this.changed('active', id);
  };

  /** The next (delta 1) or previous open chat, wrapping. */
  Desk.prototype.cycle = function (delta) {
    var n = this.order.length;
    if (!n) return;
    var i = this.order.indexOf(this.active);
    this.activate(this.order[((i < 0 ? 0 : i + delta) % n + n) % n]);
  };

  Desk.prototype.close = function (id) {
    var i = this.order.indexOf(id);
    if (i < 0) return;
    this.order.splice(i, 1);
    delete this.chats[id];
    if (this.active === id) {
      this.active = null;
      if (this.order.length) this.activate(this.order[Math.min(i, this.order.length - 1)]);
      else this.changed('active', null);
    }
    this.changed('chats');
  };

  Desk.prototype.looking = function (id) {
    return this.visible && this.active === id;
  };

  Desk.prototype.setVisible = function (visible) {
    if (this.visible === visible) return;
    this.visible = visible;
    if (visible) {
      this.unseen = {};
      if (this.active && this.chats[this.active]) this.chats[this.active].unread = 0;
    }
    this.changed('unread');
  };

  /** New escalations the agent has not seen plus visitor messages not read. */
  Desk.prototype.unread = function () {
    var n = Object.keys(this.unseen).length;
    for (var id in this.chats) n += this.chats[id].unread;
    return n;
  };

  /** A reply to the visitor: into the outbox (sent now, or once the socket is back). */
  Desk.prototype.reply = function (id, text) {
    var c = this.chats[id];
    text = String(text || '').trim();
    if (!c || c.ended || !text || !this.client) return null;
    var frame = this.client.sendMessage({ type: 'message', conversation_id: id, text: text.slice(0, MAX_TEXT) });
    this.typing(id, false);
    this.bump(c, function () { c.pending.push({ kind: 'message', client_id: frame.client_id, text: frame.text }); });
    return frame;
  };

  /** An internal note: agents only. Sent now or once ready (notes carry no client_id). */
  Desk.prototype.note = function (id, text) {
    var c = this.chats[id];
    text = String(text || '').trim();
    if (!c || !text) return false;
    this.send({ type: 'note', conversation_id: id, text: text.slice(0, MAX_TEXT) });
    this.bump(c, function () { c.pending.push({ kind: 'note', text: text.slice(0, MAX_TEXT) }); });
    return true;
  };

  /** Typing on/off, volatile (dropped while offline), sent only on change. */
  Desk.prototype.typing = function (id, on) {
    var c = this.chats[id];
    if (!c || c.ended || !!c.typingOut === !!on) return;
    c.typingOut = !!on;
    this.send({ type: 'typing', conversation_id: id, on: !!on }, true);
  };

  Desk.prototype.act = function (type, id, extra) {
    var c = this.chats[id];
    if (!c || c.ended) return false;
    var frame = { type: type, conversation_id: id };
    for (var k in extra) frame[k] = extra[k];
    this.typing(id, false);
    this.send(frame);
    this.bump(c, function () { c.closing = type; });
    return true;
  };
  Desk.prototype.handback = function (id) { return this.act('handback', id); };
  Desk.prototype.resolve = function (id) { return this.act('resolve', id); };
  /** to: {team} or {agent_id}. */
  Desk.prototype.transfer = function (id, to) { return this.act('transfer', id, { to: to }); };

  // ---- view ---------------------------------------------------------------------------

  var ICON_LOCK = 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z';

  function View(desk, opts) {
    this.desk = desk;
    this.doc = opts.doc || root.document;
    this.alerts = opts.alerts || null;
    this.clock = opts.clock || root;
    this.now = opts.now || Date.now;
    this.queueEls = {};
    this.renderedChat = null;
    this.noticeTimer = null;
    this.typingTimer = null;
  }

  /** h('button', {class: 'x', text: 'Send', onclick: fn}, [children]): no HTML parsing. */
  View.prototype.h = function (tag, props, kids) {
    return R.element(this.doc, tag, props, kids);
  };

  View.prototype.icon = function (d) {
    return R.icon(this.doc, d, 14, false);
  };

  /** Network text as the widget shows it: the safe Markdown subset, line breaks kept. */
  View.prototype.rich = function (text) {
    return R.renderMarkdown(String(text == null ? '' : text), this.doc, true);
  };

  View.prototype.chip = function (reason) {
    var info = reasonInfo(reason);
    return this.h('span', { class: 'chip tone-' + info.tone, title: info.text || null, text: info.label });
  };

  View.prototype.sentiment = function (value) {
    var s = sentimentInfo(value);
    return s ? this.h('span', { class: 'mood mood-' + s.tone, text: s.label }) : null;
  };

  View.prototype.mount = function (host) {
    var h = this.h.bind(this);
    var self = this;
    var desk = this.desk;
    host = host || this.doc.body;

    this.token = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
    this.signInError = h('p', { class: 'signin-error', role: 'alert' });
    this.signin = h('form', { class: 'signin', method: 'post', action: '#', onsubmit: function (e) {
      e.preventDefault();
      if (desk.signIn(self.token.value)) self.token.value = '';
    } }, [
      h('h1', {}, ['Baton ', h('span', { text: 'agent console' })]),
      h('label', { for: 'token', text: 'Agent token' }), this.token,
      h('button', { class: 'primary', type: 'submit', text: 'Sign in' }),
      this.signInError,
      h('p', { class: 'fine', text: 'The token is kept for this browser tab only.' })
    ]);

    this.conn = h('span', { class: 'conn', role: 'status' });
    this.agentName = h('span', { class: 'agent-name' });
    this.statusSel = h('select', { class: 'status-select', 'aria-label': 'Your status', onchange: function () { desk.setStatus(self.statusSel.value); } }, [
      h('option', { value: 'online', text: 'Online' }), h('option', { value: 'away', text: 'Away' })
    ]);
    this.alertBtn = h('button', { type: 'button', class: 'ghost alerts', onclick: function () { self.toggleAlerts(); } });
    this.top = h('header', { class: 'top' }, [
      h('div', { class: 'brand' }, ['Baton', h('span', { text: 'console' })]),
      this.conn, h('div', { class: 'grow' }), this.alertBtn,
      h('button', { type: 'button', class: 'ghost', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', text: '?', onclick: function () { self.toggleHelp(); } }),
      this.statusSel, this.agentName,
      h('button', { type: 'button', class: 'ghost', text: 'Sign out', onclick: function () { desk.signOut(); } })
    ]);

    this.queueCount = h('span', { class: 'count' });
    this.queueList = h('div', { class: 'queue', role: 'listbox', tabindex: '0', 'aria-label': 'Queue: j and k to move, Enter to take' });
    this.queueEmpty = h('p', { class: 'empty', role: 'presentation', text: 'No one is waiting. New chats appear here as they arrive.' });
    this.mineCount = h('span', { class: 'count' });
    this.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical', 'aria-label': 'My chats' });
    this.mineEmpty = h('p', { class: 'empty', text: 'Chats you take appear here.' });
    this.leftCount = h('span', { class: 'count' });
    this.leftList = h('ul', { class: 'left-list', 'aria-label': 'Messages left for the team' });
    this.leftBox = h('section', { class: 'left-box', 'aria-labelledby': 'left-h', hidden: true }, [
      h('h2', { id: 'left-h' }, ['Messages left ', this.leftCount]), this.leftList
    ]);
    var side = h('aside', { class: 'side' }, [
      h('section', { class: 'queue-box', 'aria-labelledby': 'queue-h' }, [
        h('h2', { id: 'queue-h' }, ['Queue ', this.queueCount]), this.queueList
      ]),
      h('section', { class: 'mine-box', 'aria-labelledby': 'mine-h' }, [
        h('h2', { id: 'mine-h' }, ['My chats ', this.mineCount]), this.tabs, this.mineEmpty
      ]),
      this.leftBox
    ]);

    this.chat = this.buildChat();
    this.context = h('aside', { class: 'context', 'aria-label': 'About this chat' });
    this.work = h('main', { class: 'work' }, [side, this.chat, this.context]);
    this.notice = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    this.help = this.buildHelp();
    this.app = h('div', { class: 'app' }, [this.top, this.work, this.signin, this.notice, this.help]);
    host.appendChild(this.app);

    this.queueList.addEventListener('click', function (e) { self.queueClick(e); });
    desk.onChange(function (what, id) { self.update(what, id); });
    if (this.doc.addEventListener) this.doc.addEventListener('keydown', function (e) { self.key(e); });
    this.render();
    if (this.clock.setInterval) this.clock.setInterval(function () { self.tick(); }, TICK_MS);
    return this;
  };

  View.prototype.buildChat = function () {
    var h = this.h.bind(this);
    var self = this;
    var desk = this.desk;
    this.chatTitle = h('h2', { class: 'chat-title' });
    this.chatMeta = h('div', { class: 'chat-meta' });
    this.transferTo = h('input', { class: 'transfer-to', 'aria-label': 'Team or agent id', placeholder: 'team or agent id', list: 'teams' });
    this.transferKind = h('select', { 'aria-label': 'Transfer to' }, [h('option', { value: 'team', text: 'Team' }), h('option', { value: 'agent', text: 'Agent' })]);
    this.teams = h('datalist', { id: 'teams' });
    this.transferForm = h('form', { class: 'transfer', hidden: true, onsubmit: function (e) {
      e.preventDefault();
      var v = self.transferTo.value.trim();
      if (!v) return;
      desk.transfer(desk.active, self.transferKind.value === 'agent' ? { agent_id: v } : { team: v });
      self.transferForm.hidden = true;
    } }, [this.transferKind, this.transferTo, this.teams, h('button', { type: 'submit', text: 'Transfer' }),
      h('button', { type: 'button', class: 'ghost', text: 'Cancel', onclick: function () { self.transferForm.hidden = true; } })]);
    this.actions = h('div', { class: 'actions' }, [
      h('button', { type: 'button', class: 'act-transfer', title: 'Alt+T', onclick: function () { self.run('transfer'); } }, ['Transfer', h('kbd', { text: 'Alt T' })]),
      h('button', { type: 'button', class: 'act-handback', title: 'Alt+B', onclick: function () { self.run('handback'); } }, ['Hand back to bot', h('kbd', { text: 'Alt B' })]),
      h('button', { type: 'button', class: 'act-resolve primary', title: 'Alt+R', onclick: function () { self.run('resolve'); } }, ['Resolve', h('kbd', { text: 'Alt R' })])
    ]);
    this.closeBtn = h('button', { type: 'button', class: 'act-close', hidden: true, title: 'Alt+W', onclick: function () { self.run('close'); } }, ['Close tab', h('kbd', { text: 'Alt W' })]);
    this.banner = h('div', { class: 'banner', hidden: true });
    this.transcript = h('div', { class: 'transcript', role: 'log', 'aria-label': 'Transcript', tabindex: '0' });
    this.typingLine = h('div', { class: 'typing-line', 'aria-live': 'polite' });
    this.input = h('textarea', { class: 'input', rows: '3', maxlength: String(MAX_TEXT), 'aria-label': 'Reply to the visitor',
      oninput: function () { self.onInput(); } });
    this.modeReply = h('button', { type: 'button', role: 'tab', class: 'mode', text: 'Reply', onclick: function () { self.setMode('reply'); } });
    this.modeNote = h('button', { type: 'button', role: 'tab', class: 'mode mode-note', onclick: function () { self.setMode('note'); } }, [this.icon(ICON_LOCK), ' Internal note', h('kbd', { text: 'Alt N' })]);
    this.noteHint = h('div', { class: 'note-hint', hidden: true }, [this.icon(ICON_LOCK), ' Internal note: only agents see this. The visitor never does.']);
    this.sendBtn = h('button', { type: 'submit', class: 'primary send' });
    this.composer = h('form', { class: 'composer', onsubmit: function (e) { e.preventDefault(); self.run('send'); } }, [
      h('div', { class: 'modes', role: 'tablist', 'aria-label': 'Composer mode' }, [this.modeReply, this.modeNote]),
      this.noteHint, this.input,
      h('div', { class: 'composer-row' }, [h('span', { class: 'fine', text: 'Enter or Ctrl+Enter sends \u00b7 Shift+Enter new line \u00b7 Esc back to queue' }), this.sendBtn])
    ]);
    this.chatEmpty = h('div', { class: 'chat-empty' }, [
      h('p', { class: 'big', text: 'No chat open' }),
      h('p', { text: 'Pick a chat from the queue: j / k to move, Enter to take it. Press ? for every shortcut.' })
    ]);
    this.chatBody = h('div', { class: 'chat-body', hidden: true }, [
      h('header', { class: 'chat-head' }, [h('div', { class: 'who' }, [this.chatTitle, this.chatMeta]), this.actions, this.closeBtn]),
      this.transferForm, this.banner, this.transcript, this.typingLine, this.composer
    ]);
    return h('section', { class: 'chat', role: 'tabpanel', 'aria-label': 'Open chat' }, [this.chatEmpty, this.chatBody]);
  };

  var SHORTCUTS = [
    ['j / k', 'Move in the queue'], ['Enter', 'Take the selected chat (queue focused)'],
    ['r', 'Reply: focus the composer'], ['Enter, Ctrl+Enter', 'Send'], ['Shift+Enter', 'New line'],
    ['Alt+N', 'Reply / internal note'], ['Alt+1 \u2026 9', 'Put suggested reply 1 \u2026 9 in the composer'],
    ['Alt+C', 'Search canned responses'], ['Alt+\u2191 / Alt+\u2193', 'Previous / next of my chats'],
    ['Alt+T', 'Transfer'], ['Alt+B', 'Hand back to the bot'], ['Alt+R', 'Resolve'],
    ['Alt+W', 'Close an ended chat'], ['Alt+Q, Esc', 'Back to the queue'], ['?', 'This sheet']
  ];

  View.prototype.buildHelp = function () {
    var h = this.h.bind(this);
    var self = this;
    return h('div', { class: 'help', role: 'dialog', 'aria-label': 'Keyboard shortcuts', hidden: true }, [
      h('div', { class: 'help-card' }, [
        h('h2', { text: 'Keyboard shortcuts' }),
        h('dl', {}, SHORTCUTS.reduce(function (out, s) {
          return out.concat([h('dt', {}, [h('kbd', { text: s[0] })]), h('dd', { text: s[1] })]);
        }, [])),
        h('button', { type: 'button', class: 'primary', text: 'Close', onclick: function () { self.toggleHelp(); } })
      ])
    ]);
  };

  // -- updates

  View.prototype.update = function (what, id) {
    var d = this.desk;
    if (what === 'session') return this.render();
    if (what === 'conn' || what === 'agent') this.renderTop();
    if (what === 'queue') this.renderQueue();
    if (what === 'notice') this.renderNotice();
    if (what === 'left') this.renderLeft();
    if (what === 'chats' || what === 'chat' || what === 'active' || what === 'unread') this.renderTabs();
    if (what === 'active' || what === 'chats' || (what === 'chat' && id === d.active) || what === 'conn' || what === 'agent') this.renderChat(what === 'active');
    this.renderTitle();
  };

  View.prototype.render = function () {
    var d = this.desk;
    this.signin.hidden = d.signedIn;
    this.top.hidden = this.work.hidden = !d.signedIn;
    this.signInError.textContent = d.signInError || '';
    if (!d.signedIn) {
      this.queueEls = {};
      this.queueList.replaceChildren();
      if (this.token.focus) this.token.focus();
    }
    this.renderTop();
    this.renderQueue();
    this.renderTabs();
    this.renderLeft();
    this.renderChat(true);
    this.renderTitle();
  };

  /** What visitors left when no one could take their chat: reply by email. */
  View.prototype.renderLeft = function () {
    var h = this.h.bind(this);
    var left = this.desk.left;
    this.leftBox.hidden = !left.length;
    this.leftCount.textContent = String(left.length);
    this.leftList.replaceChildren.apply(this.leftList, left.map(function (m) {
      var mail = safeUrl('mailto:' + String(m.email || '').trim());
      return h('li', { class: 'left-item' }, [
        h('div', { class: 'qrow' }, [
          mail && m.email ? h('a', { href: mail, text: String(m.email) }) : h('span', { text: String(m.email || 'no email') }),
          h('span', { class: 'grow' }), h('span', { class: 'fine', text: [m.site, clock(m.at)].filter(Boolean).join(' \u00b7 ') })
        ]),
        h('div', { class: 'left-text', text: String(m.text || '') })
      ]);
    }));
  };

  var CONN = { open: 'Connected', connecting: 'Connecting\u2026', closed: 'Offline: reconnecting\u2026', idle: 'Not connected' };

  View.prototype.renderTop = function () {
    var d = this.desk;
    this.conn.textContent = CONN[d.conn] || d.conn;
    this.conn.className = 'conn conn-' + d.conn;
    this.agentName.textContent = d.agent ? (d.agent.name || d.agent.id || '') : '';
    this.statusSel.value = d.status;
    this.statusSel.className = 'status-select st-' + d.status;
    this.renderAlerts();
  };

  var ALERT_LABEL = { off: 'Enable alerts', on: 'Alerts on', ask: 'Alerts: allow notifications\u2026', 'sound-only': 'Alerts: sound only' };

  View.prototype.renderAlerts = function () {
    if (!this.alerts) {
      this.alertBtn.hidden = true;
      return;
    }
    var s = this.alerts.state();
    this.alertBtn.textContent = ALERT_LABEL[s];
    this.alertBtn.setAttribute('aria-pressed', s === 'off' ? 'false' : 'true');
    this.alertBtn.title = s === 'sound-only' ? 'Desktop notifications are blocked for this site; the chime still plays. Click to turn alerts off.'
      : s === 'off' ? 'Chime and desktop notification for each new chat in the queue' : 'Click to turn alerts off';
  };

  View.prototype.toggleAlerts = function () {
    var self = this;
    if (this.alerts.state() !== 'off') {
      this.alerts.disable();
      this.renderAlerts();
      return;
    }
    this.alerts.enable().then(function () { self.renderAlerts(); });
    this.renderAlerts();
  };

  View.prototype.renderTitle = function () {
    if (this.doc) this.doc.title = titleWith(this.desk.signedIn ? this.desk.unread() : 0);
  };

  View.prototype.queueItem = function (it, selected) {
    var h = this.h.bind(this);
    var self = this;
    var id = it.conversation_id;
    var last = lastMessageText(it.last_message);
    var taking = !!this.desk.accepting[id];
    var wait = h('span', { class: 'wait', title: 'Waiting since ' + (it.waiting_since || '?') });
    var el = h('div', { class: 'qitem' + (selected ? ' selected' : '') + (this.desk.unseen[id] ? ' fresh' : ''), role: 'option',
      id: 'q-' + id, 'data-id': id, 'aria-selected': selected ? 'true' : 'false' }, [
      h('div', { class: 'qrow' }, [this.chip(it.reason), this.sentiment(it.sentiment), h('span', { class: 'grow' }), wait]),
      h('div', { class: 'qsummary', text: it.summary || 'No summary yet' }),
      last ? h('div', { class: 'qlast' }, [h('span', { class: 'q-from', text: (it.last_message && it.last_message.from) || 'visitor' }), ': ', last]) : null,
      h('div', { class: 'qrow qfoot' }, [
        h('span', { class: 'site', text: [it.site, it.team].filter(Boolean).join(' \u00b7 ') }),
        it.position ? h('span', { class: 'pos', title: 'Place in its line (site and team)', text: '#' + it.position }) : null,
        h('span', { class: 'grow' }),
        h('button', { type: 'button', class: 'take primary', tabindex: '-1', 'data-id': id, disabled: taking,
          onclick: function (e) { e.stopPropagation(); self.desk.take(id); } }, [taking ? 'Taking\u2026' : 'Take', h('kbd', { text: 'Enter' })])
      ])
    ]);
    this.setWait(wait, it);
    return { el: el, wait: wait, item: it };
  };

  View.prototype.setWait = function (span, it) {
    var ms = since(it.waiting_since, this.now());
    span.textContent = formatWait(ms);
    span.className = 'wait ' + waitTone(ms);
  };

  /** Keyed: an item is rebuilt only when it changed, so the list keeps focus and scroll. */
  View.prototype.renderQueue = function () {
    var d = this.desk;
    var self = this;
    var els = {};
    var nodes = d.queue.map(function (it) {
      var id = it.conversation_id;
      var sig = JSON.stringify(it) + (d.selected === id) + !!d.accepting[id] + !!d.unseen[id];
      var old = self.queueEls[id];
      els[id] = old && old.sig === sig ? old : self.queueItem(it, d.selected === id);
      els[id].sig = sig;
      return els[id].el;
    });
    this.queueEls = els;
    this.queueCount.textContent = String(nodes.length);
    if (!nodes.length) nodes = [this.queueEmpty];
    var same = nodes.length === this.queueList.childNodes.length &&
      nodes.every(function (n, i) { return self.queueList.childNodes[i] === n; });
    if (!same) this.queueList.replaceChildren.apply(this.queueList, nodes);
    if (d.selected) this.queueList.setAttribute('aria-activedescendant', 'q-' + d.selected);
    else this.queueList.removeAttribute('aria-activedescendant');
    var sel = els[d.selected];
    if (sel && sel.el.scrollIntoView) sel.el.scrollIntoView({ block: 'nearest' });
  };

  View.prototype.queueClick = function (e) {
    for (var n = e.target; n && n !== this.queueList; n = n.parentNode) {
      var id = n.getAttribute && n.getAttribute('data-id');
      if (id && n.getAttribute('role') === 'option') {
        this.desk.select(id);
        if (this.queueList.focus) this.queueList.focus();
        return;
      }
    }
  };

  View.prototype.tick = function () {
    for (var id in this.queueEls) this.setWait(this.queueEls[id].wait, this.queueEls[id].item);
  };

  var ENDED = { handed_back: 'Handed back to the bot', resolved: 'Resolved', transferred: 'Transferred', gone: 'No longer yours' };

  View.prototype.renderTabs = function () {
    var d = this.desk;
    var h = this.h.bind(this);
    var self = this;
    var tabs = d.order.map(function (id, i) {
      var c = d.chats[id];
      var last = lastVisible(c.events);
      var badge = c.unread ? h('span', { class: 'badge', 'aria-label': c.unread + ' unread', text: String(c.unread) }) : null;
      return h('button', { type: 'button', role: 'tab', class: 'tab' + (id === d.active ? ' active' : '') + (c.ended ? ' ended' : ''),
        'aria-selected': id === d.active ? 'true' : 'false', 'data-id': id, title: i < 9 ? 'Alt+\u2191 / Alt+\u2193 to switch' : null,
        onclick: function () { d.activate(id); self.focusComposer(); } }, [
        h('span', { class: 'tab-row' }, [h('strong', { text: visitorLabel(c) }), badge, h('span', { class: 'grow' }),
          c.ended ? h('span', { class: 'tab-state', text: ENDED[c.ended] || c.ended }) : self.chip(c.reason)]),
        h('span', { class: 'tab-last', text: c.typing ? 'typing\u2026' : last ? (last.from === 'agent' ? 'You: ' : '') + last.text : '' })
      ]);
    });
    this.tabs.replaceChildren.apply(this.tabs, tabs);
    this.mineEmpty.hidden = tabs.length > 0;
    this.mineCount.textContent = String(tabs.length);
  };

  function lastVisible(events) {
    for (var i = events.length - 1; i >= 0; i--) if (events[i].type === 'message') return events[i];
    return null;
  }

  View.prototype.renderChat = function (switched) {
    var d = this.desk;
    var c = d.chats[d.active];
    this.chatEmpty.hidden = !!c;
    this.chatBody.hidden = !c;
    if (!c) {
      this.context.replaceChildren();
      this.renderedChat = null;
      return;
    }
    if (switched || !this.renderedChat || this.renderedChat.id !== c.id) {
      this.input.value = c.draft || '';
      this.transferForm.hidden = true;
      this.renderedChat = { id: c.id, version: -1, context: '' };
    }
    this.chatTitle.textContent = visitorLabel(c);
    var v = c.visitor || {};
    var page = v.page || {};
    this.chatMeta.replaceChildren(this.chip(c.reason), this.h('span', { class: 'meta', text: [c.site, v.locale, page.title].filter(Boolean).join(' \u00b7 ') }));
    this.actions.hidden = !!c.ended;
    this.closeBtn.hidden = !c.ended;
    this.renderBanner(c);
    this.renderMode(c);
    this.typingLine.textContent = c.typing ? visitorLabel(c) + ' is typing\u2026' : '';
    if (this.renderedChat.version !== c.version) {
      this.renderedChat.version = c.version;
      this.renderTranscript(c, switched);
    }
    var sig = JSON.stringify([c.reason, c.detail, c.signals, c.summary, c.suggestions, c.canned, c.visitor, c.site]);
    if (this.renderedChat.context !== sig) {
      this.renderedChat.context = sig;
      this.renderContext(c);
    }
  };

  View.prototype.renderBanner = function (c) {
    var d = this.desk;
    var text = '';
    if (c.ended) text = (ENDED[c.ended] || c.ended) + '. This chat is closed for you; Alt+W closes the tab.';
    else if (c.closing) text = { handback: 'Handing back to the bot\u2026', resolve: 'Resolving\u2026', transfer: 'Transferring\u2026' }[c.closing] || '';
    else if (d.conn !== 'open') text = 'Offline: what you send now goes out once the connection is back.';
    this.banner.textContent = text;
    this.banner.hidden = !text;
    this.banner.className = 'banner' + (c.ended ? ' ended' : d.conn !== 'open' ? ' offline' : '');
    this.input.disabled = !!c.ended;
    this.composer.hidden = !!c.ended;
  };

  View.prototype.renderMode = function (c) {
    var note = c.mode === 'note';
    this.composer.className = 'composer' + (note ? ' noting' : '');
    this.noteHint.hidden = !note;
    this.modeReply.setAttribute('aria-selected', note ? 'false' : 'true');
    this.modeNote.setAttribute('aria-selected', note ? 'true' : 'false');
    this.sendBtn.textContent = note ? 'Add note' : 'Send';
    this.input.setAttribute('aria-label', note ? 'Internal note (agents only)' : 'Reply to the visitor');
    this.input.setAttribute('placeholder', note ? 'Internal note: the visitor never sees this' : 'Reply to ' + visitorLabel(c) + '\u2026');
  };

  View.prototype.setMode = function (mode) {
    var c = this.desk.chats[this.desk.active];
    if (!c) return;
    c.mode = mode;
    this.renderMode(c);
    this.focusComposer();
  };

  View.prototype.renderTranscript = function (c, jump) {
    var box = this.transcript;
    var atEnd = jump || box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    var self = this;
    var nodes = c.events.map(function (e) { return self.eventNode(e); }).filter(Boolean);
    for (var rid in c.streams) {
      nodes.push(this.h('div', { class: 'msg bot streaming', 'data-reply': rid }, [
        this.h('div', { class: 'who', text: 'Bot \u00b7 writing\u2026' }), this.h('div', { class: 'text' }, [this.rich(c.streams[rid])])
      ]));
    }
    c.pending.forEach(function (p) { nodes.push(self.pendingNode(p)); });
    box.replaceChildren.apply(box, nodes);
    if (atEnd) box.scrollTop = box.scrollHeight;
  };

  function clock(at) {
    var t = new Date(at);
    return isNaN(t.getTime()) ? '' : pad(t.getHours()) + ':' + pad(t.getMinutes());
  }

  View.prototype.eventNode = function (e) {
    var h = this.h.bind(this);
    if (e.type === 'note') return this.noteNode(e.text, (e.author && e.author.name) || 'Agent', clock(e.at));
    if (e.type === 'state') return h('div', { class: 'sys' }, [h('span', { text: stateLine(e) + (e.at ? ' \u00b7 ' + clock(e.at) : '') })]);
    if (e.type !== 'message') return null;
    if (e.from === 'system') return h('div', { class: 'sys' }, [h('span', { text: e.text || '' })]);
    var who = e.from === 'visitor' ? 'Visitor' : e.from === 'bot' ? 'Bot' + (e.author && e.author.name ? ' (' + e.author.name + ')' : '')
      : (e.author && e.author.name) || 'Agent';
    var text = e.from === 'bot' ? softBreaks(e.text) : e.text;
    var kids = [h('div', { class: 'who', text: who + ' \u00b7 ' + clock(e.at) }), h('div', { class: 'text' }, [this.rich(text)])];
    if (e.sources && e.sources.length) {
      kids.push(h('div', { class: 'sources' }, ['Sources: '].concat(e.sources.map(function (s) {
        var href = safeUrl(s.url);
        return href ? h('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: s.title || s.url }) : h('span', { text: s.title || '' });
      }))));
    }
    return h('div', { class: 'msg ' + (e.from === 'agent' || e.from === 'bot' || e.from === 'visitor' ? e.from : 'bot'), 'data-seq': String(e.seq) }, kids);
  };

  View.prototype.noteNode = function (text, author, time, pending) {
    var h = this.h.bind(this);
    return h('div', { class: 'note' + (pending ? ' pending' : ''), role: 'note', 'aria-label': 'Internal note' }, [
      h('div', { class: 'who' }, [this.icon(ICON_LOCK), h('strong', { text: 'Internal note' }),
        ' \u00b7 ' + author + (time ? ' \u00b7 ' + time : '') + (pending ? ' \u00b7 saving\u2026' : '') + ' \u00b7 not shown to the visitor']),
      h('div', { class: 'text' }, [this.rich(text)])
    ]);
  };

  View.prototype.pendingNode = function (p) {
    if (p.kind === 'note') return this.noteNode(p.text, 'You', '', true);
    var state = p.failed ? 'not sent' : this.desk.conn === 'open' ? 'sending\u2026' : 'waiting for the connection\u2026';
    return this.h('div', { class: 'msg agent pending' + (p.failed ? ' failed' : ''), 'data-client-id': p.client_id }, [
      this.h('div', { class: 'who', text: 'You \u00b7 ' + state }), this.h('div', { class: 'text' }, [this.rich(p.text)])
    ]);
  };

  /** Bot text is Markdown: a single newline inside a paragraph is a space, not a break. */
  function softBreaks(text) {
    return String(text == null ? '' : text).replace(/([^\n])\n(?![\n]|\s*(?:[-*+]|\d{1,9}[.)])\s|\s*#)/g, '$1 ');
  }

  function stateLine(e) {
    if (e.state === 'queued') return 'Escalated: ' + reasonInfo(e.reason).label;
    if (e.state === 'agent') return ((e.agent && e.agent.name) || 'An agent') + ' joined';
    if (e.state === 'bot') return 'Handed back to the bot';
    if (e.state === 'resolved') return 'Resolved';
    return 'State: ' + e.state;
  }

  // -- context panel

  /**
   * Signals worth a glance, in this order; any others follow with their raw names. Unknown
   * values (null) are left out, and so are the minor ones (4th field) while false or zero.
   */
  var SIGNALS = [
    ['sentiment', 'Sentiment', 'mood'], ['sentiment_trend', 'Mood trend', 'mood'],
    ['escalation_score', 'Escalation score', 'pct'], ['confidence', 'KB confidence', 'pct'],
    ['model_confidence', 'Model confidence', 'pct'], ['explicit_request', 'Typed a request for a person', 'bool'],
    ['repeated_question', 'Repeated question', 'bool'], ['repeat_similarity', 'Repeat similarity', 'pct', true],
    ['topic', 'Sensitive topic', 'topic'], ['bot_turns', 'Bot replies', 'num'], ['bot_errors', 'Bot errors', 'num', true],
    ['bot_declined', 'Bot said it could not help', 'bool', true], ['handoff_tool_called', 'Model asked to hand over', 'bool', true],
    ['language', 'Language', 'text']
  ];

  /** A signal value → {text, tone, bar (0-1) or null}. */
  function signalValue(kind, v) {
    if (v == null) return { text: '\u2014', tone: '', bar: null };
    if (kind === 'mood' && typeof v === 'number') {
      var s = sentimentInfo(v);
      return { text: s.label + ' (' + (v > 0 ? '+' : '') + v.toFixed(2) + ')', tone: 'mood-' + s.tone, bar: null };
    }
    if (kind === 'pct' && typeof v === 'number') return { text: Math.round(v * 100) + '%', tone: '', bar: Math.max(0, Math.min(1, v)) };
    if (typeof v === 'boolean') return { text: v ? 'yes' : 'no', tone: v ? 'flag' : '', bar: null };
    if (typeof v === 'object') return { text: String(v.name || v.topic || v.label || v.id || JSON.stringify(v)), tone: 'flag', bar: null };
    return { text: String(v), tone: '', bar: null };
  }

  View.prototype.renderContext = function (c) {
    var h = this.h.bind(this);
    var self = this;
    var info = reasonInfo(c.reason);
    var sections = [
      h('section', { class: 'why' }, [h('h3', { text: 'Why it came to you' }), this.chip(c.reason), info.text ? h('p', { text: info.text }) : null,
        c.detail ? h('p', { class: 'detail', text: String(c.detail) }) : null]),
      h('section', { class: 'summary' }, [h('h3', { text: 'Summary' }), h('p', { text: c.summary || 'No summary yet.' })]),
      this.signalsSection(c),
      this.suggestionsSection(c),
      this.cannedSection(c)
    ];
    var v = c.visitor || {};
    var page = v.page || {};
    var rows = [];
    if (page.url) {
      var href = safeUrl(page.url);
      rows.push(h('dt', { text: 'Page' }), h('dd', {}, [href ? h('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: page.title || page.url }) : page.title || page.url]));
    }
    if (v.locale) rows.push(h('dt', { text: 'Language' }), h('dd', { text: String(v.locale) }));
    if (c.site) rows.push(h('dt', { text: 'Site' }), h('dd', { text: String(c.site) }));
    rows.push(h('dt', { text: 'Chat' }), h('dd', { class: 'mono', text: c.id }));
    sections.push(h('section', { class: 'visitor' }, [h('h3', { text: 'Visitor' }), h('dl', {}, rows)]));
    this.context.replaceChildren.apply(this.context, sections);
    this.teams.replaceChildren.apply(this.teams, ((self.desk.agent && self.desk.agent.teams) || []).map(function (t) { return h('option', { value: t }); }));
  };

  View.prototype.signalsSection = function (c) {
    var h = this.h.bind(this);
    var signals = c.signals || {};
    var keys = SIGNALS.filter(function (s) { return signals[s[0]] != null && (!s[3] || signals[s[0]]); });
    var known = {};
    SIGNALS.forEach(function (s) { known[s[0]] = true; });
    Object.keys(signals).forEach(function (k) { if (!known[k] && signals[k] != null) keys.push([k, k.replace(/_/g, ' '), 'text']); });
    // The width goes through CSSOM: the server's CSP (default-src 'self') blocks style attributes.
    var fill = function (share) {
      var el = h('span', {});
      el.style.width = Math.round(share * 100) + '%';
      return el;
    };
    var rows = keys.map(function (s) {
      var val = signalValue(s[2], signals[s[0]]);
      return h('div', { class: 'sig', 'data-signal': s[0] }, [
        h('span', { class: 'sig-name', text: s[1] }),
        h('span', { class: 'sig-val ' + val.tone, text: val.text }),
        val.bar != null ? h('span', { class: 'bar', 'aria-hidden': 'true' }, [fill(val.bar)]) : null
      ]);
    });
    return h('section', { class: 'signals' }, [h('h3', { text: 'Signals' })].concat(rows.length ? rows : [h('p', { class: 'fine', text: 'No signal values.' })]));
  };

  View.prototype.suggestionsSection = function (c) {
    var h = this.h.bind(this);
    var self = this;
    var list = (c.suggestions || []).map(function (text, i) {
      return h('button', { type: 'button', class: 'suggestion', title: i < 9 ? 'Alt+' + (i + 1) + ': put in the composer' : null,
        onclick: function () { self.putInComposer(text, true); } }, [i < 9 ? h('kbd', { text: 'Alt ' + (i + 1) }) : null, h('span', { text: text })]);
    });
    return h('section', { class: 'suggestions' }, [h('h3', { text: 'Suggested replies' })].concat(list.length ? list : [h('p', { class: 'fine', text: 'None yet.' })]));
  };

  View.prototype.cannedSection = function (c) {
    var h = this.h.bind(this);
    var self = this;
    var list = h('div', { class: 'canned-list' });
    var filter = h('input', { class: 'canned-filter', type: 'search', placeholder: 'Search canned responses (Alt+C)', 'aria-label': 'Search canned responses',
      oninput: function () { fill(); },
      onkeydown: function (e) {
        if (e.key === 'Enter') {
          e.preventDefault();
          var first = list.querySelector('.canned');
          if (first) first.click();
        }
      } });
    this.cannedFilter = filter;
    function fill() {
      var q = String(filter.value || '').toLowerCase();
      var items = (c.canned || []).filter(function (r) {
        return !q || String(r.title || '').toLowerCase().indexOf(q) >= 0 || String(r.text || '').toLowerCase().indexOf(q) >= 0;
      }).map(function (r) {
        return h('button', { type: 'button', class: 'canned', title: r.text || '', onclick: function () { self.putInComposer(String(r.text || ''), false); } }, [
          h('strong', { text: r.title || 'Untitled' }), h('span', { text: r.text || '' })
        ]);
      });
      list.replaceChildren.apply(list, items.length ? items : [h('p', { class: 'fine', text: (c.canned || []).length ? 'No match.' : 'No canned responses for this site.' })]);
    }
    fill();
    return h('section', { class: 'canned-box' }, [h('h3', { text: 'Canned responses' }), filter, list]);
  };

  // -- composer

  /** A suggestion replaces the draft; a canned response goes in at the caret. */
  View.prototype.putInComposer = function (text, replace) {
    var c = this.desk.chats[this.desk.active];
    if (!c || c.ended) return;
    if (c.mode === 'note') this.setMode('reply');
    var el = this.input;
    if (replace || !el.value) el.value = text;
    else {
      var at = typeof el.selectionStart === 'number' ? el.selectionStart : el.value.length;
      var end = typeof el.selectionEnd === 'number' ? el.selectionEnd : at;
      el.value = el.value.slice(0, at) + text + el.value.slice(end);
    }
    c.draft = el.value;
    this.focusComposer();
    if (el.setSelectionRange) el.setSelectionRange(el.value.length, el.value.length);
  };

  View.prototype.focusComposer = function () {
    if (this.input.focus && !this.input.disabled) this.input.focus();
  };

  View.prototype.onInput = function () {
    var d = this.desk;
    var c = d.chats[d.active];
    if (!c) return;
    c.draft = this.input.value;
    if (c.mode === 'note') return;
    var self = this;
    var id = c.id;
    d.typing(id, !!this.input.value);
    if (this.typingTimer != null) this.clock.clearTimeout(this.typingTimer);
    this.typingTimer = this.clock.setTimeout(function () {
      self.typingTimer = null;
      d.typing(id, false);
    }, TYPING_IDLE_MS);
  };

  View.prototype.submit = function () {
    var d = this.desk;
    var c = d.chats[d.active];
    if (!c || c.ended) return;
    var text = this.input.value;
    var ok = c.mode === 'note' ? d.note(c.id, text) : d.reply(c.id, text);
    if (!ok) return;
    this.input.value = '';
    c.draft = '';
  };

  // -- keyboard

  View.prototype.key = function (e) {
    var t = e.target;
    var tag = t && t.tagName;
    var ctx = {
      composer: t === this.input,
      typing: tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || !!(t && t.isContentEditable),
      queue: t === this.queueList,
      help: !this.help.hidden
    };
    if (!this.desk.signedIn) return;
    var action = keyAction(e, ctx);
    if (!action) return;
    e.preventDefault();
    this.run(action);
  };

  View.prototype.run = function (action) {
    var d = this.desk;
    var id = d.active;
    var digit = /^suggest:(\d)$/.exec(action);
    if (digit) {
      var c = d.chats[id];
      var text = c && c.suggestions[Number(digit[1]) - 1];
      if (text) this.putInComposer(text, true);
      return;
    }
    switch (action) {
      case 'queue-next': d.move(1); return this.focusQueue();
      case 'queue-prev': d.move(-1); return this.focusQueue();
      case 'take': d.take(); return;
      case 'queue': return this.focusQueue();
      case 'reply': return this.focusComposer();
      case 'send': return this.submit();
      case 'note': return this.setMode(d.chats[id] && d.chats[id].mode === 'note' ? 'reply' : 'note');
      case 'handback': d.handback(id); return;
      case 'resolve': d.resolve(id); return;
      case 'transfer': return this.openTransfer();
      case 'close': if (d.chats[id] && d.chats[id].ended) d.close(id); return;
      case 'next-chat': d.cycle(1); return this.focusComposer();
      case 'prev-chat': d.cycle(-1); return this.focusComposer();
      case 'canned': if (this.cannedFilter && this.cannedFilter.focus) this.cannedFilter.focus(); return;
      case 'help': return this.toggleHelp();
    }
  };

  View.prototype.focusQueue = function () {
    if (this.queueList.focus) this.queueList.focus();
  };

  View.prototype.openTransfer = function () {
    var c = this.desk.chats[this.desk.active];
    if (!c || c.ended) return;
    this.transferForm.hidden = false;
    if (this.transferTo.focus) this.transferTo.focus();
  };

  View.prototype.toggleHelp = function () {
    this.help.hidden = !this.help.hidden;
  };

  View.prototype.renderNotice = function () {
    var n = this.desk.notice;
    var self = this;
    this.notice.textContent = n ? n.text : '';
    this.notice.className = 'notice' + (n ? ' tone-' + n.tone : '');
    this.notice.hidden = !n;
    if (this.noticeTimer != null) this.clock.clearTimeout(this.noticeTimer);
    this.noticeTimer = n ? this.clock.setTimeout(function () {
      self.noticeTimer = null;
      self.notice.hidden = true;
    }, NOTICE_MS) : null;
  };

  // ---- boot ---------------------------------------------------------------------------

  function sessionStore() {
    var s = null;
    try {
      s = root.sessionStorage;
      s.setItem('baton:probe', '1');
      s.removeItem('baton:probe');
    } catch (e) {
      s = null;
    }
    return new root.BatonProtocol.Store('baton:console:', s);
  }

  function boot() {
    var doc = root.document;
    var host = doc.getElementById('baton-console');
    var store = sessionStore();
    var alerts = new Alerts({
      Notification: root.Notification,
      AudioContext: root.AudioContext || root.webkitAudioContext,
      store: store,
      isHidden: function () { return doc.hidden || (doc.hasFocus && !doc.hasFocus()); }
    });
    var url = root.location.origin.replace(/^http/, 'ws') + '/v1/agent/ws';
    var desk = new Desk({ url: url, store: store, alerts: alerts });
    var view = new View(desk, { doc: doc, alerts: alerts }).mount(host);
    var seen = function () { desk.setVisible(!doc.hidden && (!doc.hasFocus || doc.hasFocus())); };
    doc.addEventListener('visibilitychange', seen);
    root.addEventListener('focus', seen);
    root.addEventListener('blur', seen);
    seen();
    desk.resume();
    root.BatonConsole.desk = desk;
    root.BatonConsole.view = view;
  }

  var exported = {
    REASONS: REASONS,
    reasonInfo: reasonInfo,
    formatWait: formatWait,
    waitTone: waitTone,
    sentimentInfo: sentimentInfo,
    sortQueue: sortQueue,
    mergeEvents: mergeEvents,
    visitorLabel: visitorLabel,
    titleWith: titleWith,
    keyAction: keyAction,
    safeUrl: safeUrl,
    signalValue: signalValue,
    softBreaks: softBreaks,
    endedBy: endedBy,
    Alerts: Alerts,
    Desk: Desk,
    View: View
  };
  root.BatonConsole = exported;
  if (typeof module === 'object' && module.exports) module.exports = exported;
  if (root.document && root.document.getElementById && root.document.getElementById('baton-console') && root.BatonProtocol) {
    if (root.document.readyState === 'loading') root.document.addEventListener('DOMContentLoaded', boot);
    else boot();
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
