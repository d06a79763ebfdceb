  // ---- widget/frames.js ----------------------------------------------------------------

  /** Whether a frame offers the "Leave a message" quick reply. */
  function offersLeave(f) {
    return Array.isArray(f.actions) && f.actions.some(function (a) { return a && a.id === 'leave_message'; });
  }

  /** Whether a frame tells the visitor that no agent can take the chat. */
  function saysUnavailable(f) {
    if (!f) return false;
    // The server marks its "nobody can take this" notice with a leave_message quick reply.
    if (offersLeave(f)) return true;
    if (f.available === false || f.agents_available === false ||
        f.reason === 'unavailable' || f.reason === 'no_agents') return true;
    return f.type === 'message' && f.from === 'system' &&
      /\b(?:no|not|nobody|no one)\b[^.]{0,60}\b(?:available|online)\b|\bunavailable\b/i.test(f.text || '');
  }

  Widget.prototype.wire = function () {
    var self = this;
    var c = this.client;
    Object.keys(FRAMES).forEach(function (type) {
      c.on(type, function (f) { FRAMES[type](self, f); });
    });
    c.on('frame', function (f) {
      if (f.type === 'ack' || f.seq) self.recovered();
      // The last replayed event: from here on the welcome's state is the current one.
      if (f.seq === self.liveFrom && self.welcomeState) self.setState({ state: self.welcomeState });
    });
    c.on('message', function (f) { self.proactiveAnswer(f); });
    c.on('error', function (f) { self.proactiveAnswer(f); });
    c.on('status', function (s) { self.connection(s); });
    c.on('stopped', function (e) { self.stopped(e.code); });
  };

  /** UI reactions per frame type (the protocol client has done dedupe and bookkeeping). */
  var FRAMES = {
    welcome: function (w, f) {
      w.liveFrom = f.last_seq || 0;
      if (f.ai_notice) {
        w.aiNotice = f.ai_notice;
        w.notice.textContent = f.ai_notice;
      }
      w.welcomeState = f.state;
      w.emailOn = !!f.email;
      w.restoreHold(f.conversation_id);
      if ((f.last_seq || 0) <= w.client.lastSeq(f.conversation_id)) w.setState({ state: f.state });
      FRAMES.identity(w, f);
    },
    identity: function (w, f) {
      var name = f.identity === 'verified' && w.identity && w.identity.name;
      w.signedIn.textContent = name ? '\u2713 ' + name : '';
      w.signedIn.hidden = !name;
      w.emitHook('identity', f.identity);
    },
    history: function (w, f) {
      w.showHistory(f.conversations);
    },
    message: function (w, f) {
      var live = f.seq > w.liveFrom;
      // The conversation has its own first message now: the local greeting makes way for it.
      if (!w.introSeen) w.intro.hidden = w.introSeen = true;
      if (f.from === 'visitor') {
        w.visitorBubble(f.client_id, f.text, false, f.at);
      } else if (f.from === 'system') {
        w.systemLine(f.text || '', !live);
        w.lastAuthor = null;
      } else {
        w.typingShow(null);
        var stream = w.streams[f.id];
        delete w.streams[f.id];
        var name = stream ? (f.author && f.author.name) || stream.name : w.authorLabel(f);
        var el = stream ? stream.el : h('div', { class: 'msg ' + (f.from === 'agent' ? 'agent' : 'bot') });
        el.classList.remove('streaming');
        el.removeAttribute('aria-hidden');
        el.title = w.time(f.at);
        if (stream) w.stick(function () { w.fill(el, f); }, false, el);
        else {
          w.fill(el, f);
          w.append(el, false, !live);
        }
        if (live) {
          w.announce((name ? name + ': ' : '') + (f.text || ''));
          if (!w.panelOpen) w.showPreview(name, f.text || '');
        }
      }
      if ((f.notice === 'agent_joined' || f.from === 'agent') && !w.joined) w.hold(w.agent, w.state === 'agent');
      w.actions(f);
      // A notice with the "Leave a message" reply opens the form when the visitor picks it.
      if (saysUnavailable(f) && !offersLeave(f)) w.showLeave();
      w.seen(f);
      w.emitHook('message', f);
    },
    state: function (w, f) {
      w.seen(f);
      // Given to someone (a take, routing, a transfer): they have not joined until told so.
      if (f.state === 'agent') w.hold(f.agent || w.agent, false);
      if (f.state === 'queued' || f.state === 'agent') w.askedHuman = false;
      // No line of ours: the server says, in the visitor's language, when a person joins
      // (when they take the chat, not when it is assigned), hands back, or the chat ends.
      w.setState(f);
      if (f.state === 'resolved' && w.endedHere) w.showRating();
      if (saysUnavailable(f)) w.showLeave(true);
    },
    ack: function (w, f) {
      var el = w.bubbles[f.client_id];
      if (el && el.classList.contains('pending')) w.visitorBubble(f.client_id, el.textContent, false);
    },
    bot_delta: function (w, f) {
      w.typingShow(null);
      var s = w.streams[f.reply_id];
      if (!s) {
        var name = w.authorLabel({ from: 'bot' });
        s = w.streams[f.reply_id] = { el: h('div', { class: 'msg bot streaming', 'aria-hidden': 'true' }), text: '', name: name };
        w.append(s.el);
      }
      s.text += f.text || '';
      w.stick(function () { s.el.replaceChildren(renderMarkdown(s.text)); });
    },
    bot_cancelled: function (w, f) {
      var s = w.streams[f.reply_id];
      if (!s) return;
      delete w.streams[f.reply_id];
      s.el.classList.remove('streaming');
      s.el.classList.add('stopped');
      s.el.removeAttribute('aria-hidden');
      s.el.appendChild(h('span', { text: ' …' }));
    },
    confirm_action: function (w, f) {
      w.typingShow(null);
      w.actionCard(f);
    },
    action_answered: function (w, f) {
      w.closeActionCard(f.call_id);
    },
    typing: function (w, f) {
      if (f.from === 'visitor') return;
      w.typingShow(f.on ? (f.from === 'agent' && w.agent ? w.agent.name : w.look('bot_name')) : null);
    },
    queue: function (w, f) {
      var t = w.t;
      // One line under the transcript; "waiting" itself is in the header.
      var parts = [];
      if (f.position) parts.push(t('queue', { n: f.position }));
      if (f.eta_seconds != null) parts.push(t('wait', { m: Math.max(1, Math.ceil(f.eta_seconds / 60)) }));
      w.queueCard.textContent = parts.join(' ');
      w.queueCard.hidden = !parts.length || w.state !== 'queued';
    },
    csat_request: function (w) {
      w.showRating();
    },
    transcript_queued: function (w) {
      var f = w.transcriptForm;
      if (f) f.replaceChildren(h('p', { role: 'status', text: '\u2713 ' + f.elements[0].value }));
    },
    error: function (w, f) {
      // The store failed for a moment (not "no agent"): say so and try again.
      if (f.code === 'unavailable') w.trouble();
    }
  };

  Widget.prototype.typingShow = function (name) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typingEl.hidden = !name;
    this.typingEl.textContent = name ? this.t('typing', { name: name }) : '';
    if (name) this.typingTimer = setTimeout(function () { self.typingShow(null); }, 10000);
  };

  /** Unacknowledged messages (the server keeps each client_id once) and an unanswered request
   *  for a person go again, later each time; the line stays until the store answers. */
  Widget.prototype.trouble = function () {
    var self = this;
    clearTimeout(this.bannerTimer);
    clearTimeout(this.retryTimer);
    this.banner.textContent = this.t('trouble');
    this.banner.hidden = false;
    this.retryTimer = setTimeout(function () {
      self.client.resend();
      if (self.askedHuman) self.client.send({ type: 'request_human' });
    }, root.BatonProtocol.backoff(this.tries = (this.tries || 1) + 1));
  };

  Widget.prototype.recovered = function () {
    if (this.tries) this.banner.hidden = !(this.tries = 0);
  };

  Widget.prototype.connection = function (status) {
    var self = this;
    clearTimeout(this.bannerTimer);
    if (status === 'open') {
      this.banner.hidden = true;
      return;
    }
    if (status === 'idle') return;
    this.bannerTimer = setTimeout(function () {
      self.banner.textContent = self.t('reconnecting');
      self.banner.hidden = false;
    }, 1500);
  };

  /** 4001: the conversation is gone; start a fresh one now if the visitor is here. */
  Widget.prototype.stopped = function (code) {
    clearTimeout(this.bannerTimer);
    this.banner.hidden = true;
    if (code !== 4001) {
      if (root.console) root.console.warn('Baton: the server refused this page (close code ' + code + ')');
      return;
    }
    this.forgetConversation();
    if (this.panelOpen || this.client.outbox().length) this.client.connect();
  };
