  // ---- console/desk.js -----------------------------------------------------------------
  // The Desk, the model: session, state, what the agent does. Frames: frames.js.

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
    this.previewing = null;
    this.previews = {};
    this.accepting = {};
    this.dropped = [];
    this.left = [];
    /** The emails of left messages' conversations (`ready.mail`), by conversation. */
    this.mail = {};
    /** Who can take a chat now (`roster` frame), while the transfer form is open. */
    this.roster = null;
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
      // The status goes with auth, so a reconnect never makes an away agent routable.
      hello: function () { return { type: 'auth', token: token, status: self.status }; },
      keep: function (frame, ready) { return self.keeps(frame, ready); }
    });
    this.client.on('status', function (s) {
      self.conn = s;
      if (s === 'closed') self.holdTakes();
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

  /**
   * The socket dropped while a take was unanswered. The server most likely took the chat, but
   * its `assigned` went down with the socket, and that frame is what ends the read-only
   * preview: without this the chat stayed a preview, composer hidden, until a reconnect. So it
   * opens here, from its preview (or its queue item), for a reply that waits in the outbox. The
   * next `ready` settles it: listed, it is this agent's; not, it ends "No longer yours" and what
   * was typed for it is not sent (keeps).
   */
  Desk.prototype.holdTakes = function () {
    for (var id in this.accepting) {
      if (this.chats[id] && !this.chats[id].ended) continue;
      var item = this.previews[id] || this.queue.filter(function (it) { return it.conversation_id === id; })[0] || {};
      var view = {};
      for (var k in item) view[k] = item[k];
      view.conversation_id = id;
      view.state = 'agent';
      var shown = this.previewing === id || !this.active;
      this.absorb(view, true);
      if (shown) this.activate(id, true);
    }
  };

  /** A read-only look at a waiting chat (the server answers with its view). */
  Desk.prototype.preview = function (id) {
    if (this.chats[id] && !this.chats[id].ended) return this.activate(id);
    this.selected = this.previewing = id;
    this.send({ type: 'preview', conversation_id: id }, true);
    this.changed('queue');
    this.changed('active', id);
  };

  /** Shows chat id; `auto`: the console did (a routed chat, the next after a close), not the
   *  agent, so the visitor is not yet told that they joined. */
  Desk.prototype.activate = function (id, auto) {
    if (!this.chats[id]) return;
    this.previewing = null;
    this.active = id;
    if (this.visible) this.chats[id].unread = 0;
    if (!auto) this.open(id);
    this.changed('active', id);
  };

  /** The agent opened (or turned to) chat id: the server tells the visitor they joined,
   *  once per take, so repeats cost nothing but one frame. */
  Desk.prototype.open = function (id) {
    var c = id && this.chats[id];
    if (!c || c.ended || c.opened) return;
    c.opened = true;
    this.send({ type: 'open', conversation_id: id });
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
      if (this.order.length) this.activate(this.order[Math.min(i, this.order.length - 1)], true);
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
  /** to: {team} or {agent_id}; note: for the next agent (optional). */
  Desk.prototype.transfer = function (id, to, note) {
    var extra = { to: to };
    if (note && note.trim()) extra.note = note.trim();
    return this.act('transfer', id, extra);
  };

  /** Asks who can take chat id now (the transfer form lists them: the agents of its site); a
   *  `roster` frame answers. */
  Desk.prototype.askRoster = function (id) {
    this.roster = null;
    this.send(id ? { type: 'roster', conversation_id: id } : { type: 'roster' });
    this.changed('roster');
  };

  /** The agent's one-click verdict on the escalation of a chat they handled (kept by the
   *  server for the reports; a second replaces the first). */
  Desk.prototype.verdict = function (id, verdict) {
    var c = this.chats[id];
    if (!c) return;
    this.send({ type: 'verdict', conversation_id: id, verdict: verdict });
    this.bump(c, function () { c.verdict = verdict; });
  };

  /** Marks a left message's conversation handled (or not, `handled` false) for every agent
   *  of its site: the server keeps the mark and tells them all (`left_message_handled`). */
  Desk.prototype.markHandled = function (m, handled) {
    this.send({ type: 'handled', conversation_id: m.conversation_id, handled: handled !== false });
  };

  Desk.prototype.isHandled = function (m) {
    return !!m.handled;
  };

  /** The server's mark for a conversation's left messages (null: not handled). */
  Desk.prototype.setHandled = function (id, mark) {
    this.left.forEach(function (m) { if (m.conversation_id === id) m.handled = mark || null; });
    this.changed('left');
  };
