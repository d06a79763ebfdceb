  // ---- console/frames.js ---------------------------------------------------------------
  // What the Desk does with each frame from the server.

  /** Frame handlers, by type; conversation events (with seq) go to event(). */
  var ON = {
    ready: function (d, f) { d.onReady(f); },
    queue_snapshot: function (d, f) { d.setQueue(f.items || []); },
    assigned: function (d, f) { if (f.conversation) d.absorb(f.conversation); },
    left_message: function (d, f) { if (f.message) d.addLeft([f.message], true); },
    left_message_handled: function (d, f) { d.setHandled(f.conversation_id, f.handled); },
    preview: function (d, f) {
      var v = f.conversation;
      if (!v || v.conversation_id !== d.previewing) return;
      d.previews[v.conversation_id] = v;
      d.changed('active', v.conversation_id);
    },
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
    roster: function (d, f) {
      d.roster = { agents: f.agents || [], teams: f.teams || [] };
      d.changed('roster');
    },
    rated: function (d, f) {
      var c = d.chats[f.conversation_id];
      if (!c || !f.rating) return;
      c.rating = f.rating;
      c.version++;
      d.changed('chat', c.id);
    },
    sla_breach: function (d, f) {
      d.say('A chat has waited ' + formatWait((f.waited_secs || 0) * 1000) + ' for a person, past the SLA.', 'error');
    },
    error: function (d, f) { d.onError(f); }
  };

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
    this.mail = {};
    (f.mail || []).forEach(function (m) { (self.mail[m.conversation_id] = self.mail[m.conversation_id] || []).push(m); });
    this.addLeft(f.left_messages || [], false);
    this.setQueue(f.queue || []);
    if (this.status !== 'online') this.client.send({ type: 'status', status: this.status });
    if (first && !this.active && this.order.length) this.activate(this.order[0], true);
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
    for (var p in this.previews) if (!known[p]) delete this.previews[p];
    if (this.previewing && !known[this.previewing]) {
      this.previewing = null; // taken by someone, or gone: back to the chat the agent had open
      this.changed('active', this.active);
    }
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
    ['site', 'state', 'visitor', 'reason', 'detail', 'summary', 'signals', 'attachments', 'rating', 'previous'].forEach(function (k) {
      if (view[k] != null) c[k] = view[k];
    });
    if (Array.isArray(view.suggestions)) c.suggestions = view.suggestions.map(String);
    if (Array.isArray(view.canned)) c.canned = view.canned;
    c.events = mergeEvents(c.events, view.events);
    // The deadline to answer by (handoff.answer_timeout_secs), until this agent writes.
    c.answerBy = view.answer_by ? Date.parse(view.answer_by) : null;
    c.answerAfter = c.events.length ? c.events[c.events.length - 1].seq : 0;
    c.events.forEach(function (e) { settlePending(c, e); });
    c.ended = endedBy(c.state, lastAgent(c.events), this.agent);
    // Each take is its own: the visitor is told once the agent opens this one (open()).
    c.opened = false;
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
    // Taken on purpose: the server said they joined. Routed here: shown, not yet "joined".
    if (wanted) this.activate(id, true);
    else if (!quiet && !this.active) this.activate(id, true);
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
    } else if (f.type === 'attachment' && f.from === 'visitor') {
      if (!this.looking(c.id)) c.unread++;
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
    if (f.code === 'transfer_refused') {
      // Nothing moved: the chat is still this agent's, and the message says who can take it.
      for (var id in this.chats) {
        var c = this.chats[id];
        if (c.closing === 'transfer') this.bump(c, function () { c.closing = null; });
      }
    }
    this.say(text, 'error');
  };

  Desk.prototype.say = function (text, tone) {
    this.notice = { text: text, tone: tone || 'info', at: this.now() };
    this.changed('notice');
  };
