  // ---- widget/views.js -----------------------------------------------------------------

  /** The safe Markdown subset and the DOM builder, shared with the console (render.js). */
  var R = root.BatonRender;
  var safeUrl = R.safeUrl;
  var parseInline = R.parseInline;
  var parseMarkdown = R.parseMarkdown;

  /** Markdown text → DocumentFragment, built with createElement and text nodes only. */
  function renderMarkdown(text, doc, breaks) {
    return R.renderMarkdown(text, doc || root.document, breaks);
  }

  var ICON_CHAT = 'M6 4h12a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-7l-5 4v-4a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3z';
  var ICON_DOWN = 'M6 9l6 6 6-6';
  var ICON_X = 'M6 6l12 12M18 6L6 18';

  function icon(d, filled) {
    return R.icon(root.document, d, 26, filled);
  }

  function h(tag, props, kids) {
    return R.element(root.document, tag, props, kids);
  }

  Widget.prototype.mount = function () {
    var self = this;
    var t = this.t;
    var doc = root.document;
    this.host = doc.createElement('baton-widget');
    var shadow = this.host.attachShadow({ mode: 'open' });
    shadow.appendChild(h('style', { text: CSS }));

    this.badge = h('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
    this.launcher = h('button', { class: 'launcher', type: 'button', 'aria-expanded': 'false', onclick: function () {
      self.panelOpen ? self.close() : self.open();
    } }, [icon(ICON_CHAT, true), this.badge]);

    this.titleEl = h('div', { class: 'title' });
    this.sub = h('div', { class: 'sub' });
    this.xBtn = h('button', { class: 'x', type: 'button', onclick: function () { self.close(); } }, [icon(ICON_X)]);
    this.notice = h('p', { class: 'notice' });
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'off', tabindex: '0', onscroll: function () { if (self.atEnd()) self.pill.hidden = true; } });
    this.pill = h('button', { class: 'pill', type: 'button', hidden: true, onclick: function () { self.follow(); } });
    this.preview = h('div', { class: 'preview', role: 'status', hidden: true, onclick: function () { self.open(); } });
    this.intro = h('div', { class: 'msg bot intro', hidden: true });
    this.past = h('div', { class: 'past', hidden: true });
    this.log.appendChild(this.past);
    this.log.appendChild(this.intro);
    this.signedIn = h('p', { class: 'notice signed', hidden: true });
    this.typingEl = h('div', { class: 'typing', hidden: true });
    this.queueCard = h('div', { class: 'qline', role: 'status', hidden: true });
    this.leaveCard = h('div', { class: 'card leave' });
    this.csatCard = h('div', { class: 'card csat' });
    this.humanBtn = h('button', { class: 'link', type: 'button', onclick: function () { self.requestHuman(); } });
    this.endBtn = h('button', { class: 'link end', type: 'button', onclick: function () { self.confirmEnd(true); } });
    this.endAsk = h('span');
    this.endYes = h('button', { class: 'yes', type: 'button', onclick: function () { self.end(); } });
    this.endNo = h('button', { type: 'button', onclick: function () { self.confirmEnd(false); } });
    this.confirm = h('div', { class: 'confirm', role: 'alertdialog', hidden: true }, [this.endAsk, this.endYes, this.endNo]);
    this.input = h('textarea', { class: 'input', rows: '1', maxlength: '4000', enterkeyhint: 'send',
      oninput: function () { self.autosize(); self.typing(true); },
      onkeydown: function (e) {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          self.submit();
        }
      } });
    this.sendBtn = h('button', { class: 'send', type: 'submit' });
    this.compose = h('form', { class: 'compose', onsubmit: function (e) { e.preventDefault(); self.submit(); } },
      this.mountFiles().concat([this.input, this.sendBtn]));
    this.newBtn = h('button', { class: 'primary', type: 'button', hidden: true, onclick: function () { self.newChat(); } });
    this.links = h('div', { class: 'links' }, [this.humanBtn, this.endBtn]);
    this.announcer = h('div', { class: 'sr', role: 'log', 'aria-live': 'polite' });

    this.panel = h('section', { class: 'panel', role: 'dialog', hidden: true,
      onkeydown: function (e) { if (e.key === 'Escape') self.close(); } }, [
      h('div', { class: 'head' }, [h('div', { class: 'head-text' }, [this.titleEl, this.sub]), this.xBtn]),
      this.notice, this.signedIn, this.banner, h('div', { class: 'wrap' }, [this.log, this.pill]), this.typingEl, this.queueCard,
      h('div', { class: 'foot' }, [this.confirm, this.links, this.compose, this.newBtn]),
      this.announcer
    ]);
    this.rootEl = h('div', { class: 'root' }, [this.panel, this.preview, this.launcher]);
    shadow.appendChild(this.rootEl);
    this.shadow = shadow;
    this.paint();
    (doc.body || doc.documentElement).appendChild(this.host);

    this.client.outbox().forEach(function (f) {
      if (f.type === 'message') self.visitorBubble(f.client_id, f.text, true);
    });
    if (this.store.get('token') || this.client.outbox().length) this.client.connect();
    if (this.openAtMount || (this.openAtMount == null && this.session.get('open'))) this.open(this.openAtMount == null);
    this.fetchConfig();
  };

  /** (Re)applies strings and appearance; runs again when the site configuration arrives. */
  Widget.prototype.paint = function () {
    var t = this.t;
    var color = safeColor(this.look('color')) || DEFAULT_COLOR;
    this.rootEl.style.setProperty('--accent', color);
    this.rootEl.style.setProperty('--on', onColor(color));
    this.rootEl.classList.toggle('left', this.look('position') === 'left');
    this.rootEl.dir = RTL[this.locale] ? 'rtl' : 'ltr';
    this.rootEl.lang = this.locale;
    this.labelLauncher();
    this.xBtn.setAttribute('aria-label', t('close'));
    this.titleEl.textContent = this.look('title');
    this.panel.setAttribute('aria-label', this.look('title'));
    this.notice.textContent = this.aiNotice || this.look('ai_notice');
    this.log.setAttribute('aria-label', this.look('title'));
    this.humanBtn.textContent = t('human');
    this.endBtn.textContent = t('end');
    this.endAsk.textContent = t('endAsk');
    this.endYes.textContent = t('endYes');
    this.endNo.textContent = t('cancel');
    this.pill.textContent = t('newMsgs') + ' \u2193';
    this.input.setAttribute('aria-label', t('message'));
    this.input.setAttribute('placeholder', t('placeholder'));
    this.sendBtn.textContent = t('send');
    this.newBtn.textContent = t('newChat');
    var greeting = this.look('greeting');
    this.intro.textContent = '';
    this.intro.appendChild(renderMarkdown(greeting));
    this.intro.hidden = !greeting || this.introSeen;
    this.header();
  };

  Widget.prototype.header = function () {
    var t = this.t;
    var s = this.state;
    // Given to a person who has not joined yet (routing assigned it, a transfer): still waiting.
    var joined = s === 'agent' && this.agent && this.joined;
    this.sub.textContent = joined ? t('agentTitle', { name: this.agent.name }) :
      s === 'queued' || s === 'agent' ? t('waiting') : s === 'resolved' ? t('ended') : this.look('bot_name');
    // The AI notice belongs to the bot's turns; a person, a queue or an ended chat hides it.
    this.notice.hidden = s !== 'bot';
    this.links.hidden = s === 'resolved';
    this.endBtn.hidden = !this.wrote;
    if (s === 'resolved') this.confirm.hidden = true;
    this.humanBtn.hidden = s === 'queued' || s === 'agent';
    this.compose.hidden = s === 'resolved';
    this.newBtn.hidden = s !== 'resolved';
    if (s !== 'queued') this.queueCard.hidden = true;
  };

  /** `history`: earlier conversations, read-only, above this one. */
  Widget.prototype.showHistory = function (list) {
    var past = this.past;
    past.hidden = !list.length;
    list.reverse().forEach(function (c) {
      past.appendChild(h('div', { class: 'system', text: new Date(c.started_at).toLocaleDateString() }));
      c.messages.forEach(function (m) {
        var f = m.from;
        if (f !== 'system') past.appendChild(h('div', { class: 'msg ' + (f == 'agent' ? f : f == 'visitor' ? f : 'bot') }, [f == 'visitor' ? m.text : renderMarkdown(m.text)]));
      });
    });
    this.follow();
  };

  // ---- opening, unread ----------------------------------------------------------------

  Widget.prototype.open = function (restoring) {
    if (this.panelOpen) return;
    this.panelOpen = true;
    this.panel.hidden = false;
    this.rootEl.classList.add('open');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.launcher.replaceChildren(icon(ICON_DOWN), this.badge);
    this.paint();
    this.session.set('open', true);
    this.client.connect();
    this.markRead();
    this.preview.hidden = true;
    this.follow();
    if (!restoring) this.input.focus();
    this.emitHook('open');
  };

  Widget.prototype.close = function () {
    if (!this.panelOpen) return;
    var hadFocus = this.shadow.activeElement && this.panel.contains(this.shadow.activeElement);
    this.panelOpen = false;
    this.panel.hidden = true;
    this.rootEl.classList.remove('open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.replaceChildren(icon(ICON_CHAT, true), this.badge);
    this.paint();
    this.session.set('open', false);
    if (hadFocus) this.launcher.focus();
    this.emitHook('close');
  };

  Widget.prototype.markRead = function () {
    var seq = this.client.lastSeq(this.store.get('conversation'));
    if (seq > this.readSeq) {
      this.readSeq = seq;
      this.store.set('read', seq);
    }
    this.setUnread(0);
  };

  Widget.prototype.setUnread = function (n) {
    this.unread = n;
    this.badge.hidden = !n;
    this.badge.textContent = n > 9 ? '9+' : String(n);
    this.launcher.setAttribute('aria-description', n ? this.t('unread', { n: n }) : '');
    this.labelLauncher();
    this.emitHook('unread', n);
  };

  /** The badge's number is part of the launcher's name: what is seen is what is read. */
  Widget.prototype.labelLauncher = function () {
    var t = this.t;
    this.launcher.setAttribute('aria-label', (this.panelOpen ? t('close') : t('open')) + (this.unread ? ', ' + t('unread', { n: this.unread }) : ''));
  };

  // ---- the log ------------------------------------------------------------------------

  Widget.prototype.atEnd = function () {
    var log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  };

  /**
   * Scrolls to the newest item, but never past the top of `el` (a long answer is read from
   * its start); hides the "new messages" pill.
   */
  Widget.prototype.follow = function (el) {
    var log = this.log;
    var to = log.scrollHeight;
    if (el && el.offsetTop > 0) to = Math.min(to, el.offsetTop - 36);
    log.scrollTop = to;
    this.pinned = el && to < log.scrollHeight - log.clientHeight ? el : null;
    this.pill.hidden = true;
  };

  /**
   * Runs change(), then follows the new content if the visitor was at the end (or `force`);
   * a visitor who scrolled up keeps their place and gets the pill instead.
   */
  Widget.prototype.stick = function (change, force, el) {
    var end = this.atEnd() || !this.log.clientHeight;
    change();
    if (end || force) this.follow(el);
    else if (!el || el !== this.pinned) this.pill.hidden = false;
  };

  /** Confirmed items go before the first pending (unsent) message; pending ones go last. */
  Widget.prototype.append = function (el, pending, force) {
    var log = this.log;
    this.stick(function () { log.insertBefore(el, pending ? null : log.querySelector('.pending')); }, pending || force, el);
  };

  /** The live region gets plain text: Markdown is rendered, then read as text. */
  Widget.prototype.announce = function (text) {
    var a = this.announcer;
    a.appendChild(h('p', { text: renderMarkdown(text).textContent }));
    while (a.childNodes.length > 3) a.removeChild(a.firstChild);
  };

  Widget.prototype.systemLine = function (text, force) {
    this.append(h('div', { class: 'system', text: text }), false, force);
  };

  /** "14:05" in the visitor's locale, from an event's `at` (now for what is not stored yet). */
  Widget.prototype.time = function (at) {
    var d = at ? new Date(at) : new Date();
    try { return d.toLocaleTimeString(this.locale, { hour: '2-digit', minute: '2-digit' }); } catch (e) { return ''; }
  };

  Widget.prototype.visitorBubble = function (clientId, text, pending, at) {
    var el = this.bubbles[clientId];
    if (!this.wrote) {
      this.wrote = true;
      this.header();
    }
    if (!el) {
      if (this.lastAuthor !== 'visitor') this.append(h('div', { class: 'who me', text: this.time(at) }), pending);
      this.lastAuthor = 'visitor';
      el = h('div', { class: 'msg visitor', text: text, title: this.time(at) });
      if (clientId) this.bubbles[clientId] = el;
    } else if (!pending && el.classList.contains('pending')) {
      el.remove(); // reposition among confirmed events
    } else {
      return el;
    }
    el.classList.toggle('pending', !!pending);
    this.append(el, pending);
    return el;
  };

  /** Fills a bot/agent bubble: Markdown body, sources, quick replies. */
  Widget.prototype.fill = function (el, f) {
    el.replaceChildren(renderMarkdown(f.text || '', null, f.from === 'agent'));
    var links = (Array.isArray(f.sources) ? f.sources : []).map(function (s) {
      var url = s && safeUrl(s.url);
      var label = (s && (s.title || s.url)) || '';
      return url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: label }) : h('span', { text: label });
    });
    if (links.length) el.appendChild(h('div', { class: 'sources' }, [h('div', { text: this.t('sources') })].concat(links)));
  };

  /** Who speaks: initials, name, an "AI" label on the bot, and the group's time. */
  Widget.prototype.authorLabel = function (f) {
    var name = (f.author && f.author.name) || (f.from === 'bot' ? this.look('bot_name') : '');
    var key = f.from + ':' + name;
    if (key !== this.lastAuthor && name) {
      var initials = name.split(/\s+/).map(function (w) { return w.charAt(0); }).join('').slice(0, 2).toUpperCase();
      this.append(h('div', { class: 'who who-' + f.from }, [
        h('span', { class: 'av', 'aria-hidden': 'true', text: initials }), h('strong', { text: name }),
        f.from === 'bot' ? h('span', { class: 'ai', text: 'AI' }) : null, h('span', { text: this.time(f.at) })
      ]), false, f.seq <= this.liveFrom);
    }
    this.lastAuthor = key;
    return name;
  };

  /** A bot action that changes something waits for the visitor: its summary, Confirm and
   *  Cancel. Nothing is done before Confirm; answered here or on another tab, the card goes. */
  Widget.prototype.actionCard = function (f) {
    var self = this;
    var id = String(f.call_id);
    function answer(confirmed) {
      self.client.send({ type: 'action_answer', call_id: id, confirmed: confirmed });
      self.closeActionCard(id);
    }
    this.closeActionCard(id);
    var card = h('div', { class: 'card act', role: 'group', 'aria-label': this.t('confirm') }, [
      h('p', { text: String(f.summary || '') }),
      h('div', { class: 'row' }, [
        h('button', { class: 'yes', type: 'button', text: this.t('confirm'), onclick: function () { answer(true); } }),
        h('button', { type: 'button', text: this.t('cancel'), onclick: function () { answer(false); } })
      ])
    ]);
    (this.actionCards = this.actionCards || {})[id] = card;
    this.append(card, false, true);
    this.announce(String(f.summary || ''));
  };

  Widget.prototype.closeActionCard = function (id) {
    var card = this.actionCards && this.actionCards[id];
    if (card) card.remove();
    if (card) delete this.actionCards[id];
  };

  Widget.prototype.actions = function (f) {
    var self = this;
    var leave = offersLeave(f);
    // Quick replies answer the latest message; "Leave a message" stays until a newer one, the
    // form, or a person or the bot taking the chat (dropLeave).
    var old = this.log.querySelectorAll('.actions');
    for (var i = 0; i < old.length; i++) if (leave || !old[i].classList.contains('leave-chip')) old[i].remove();
    if (!Array.isArray(f.actions) || !f.actions.length) return;
    var group = h('div', { class: 'actions' + (leave ? ' leave-chip' : ''), role: 'group' });
    f.actions.forEach(function (a) {
      if (a.id === 'leave_message' && (self.hasLeft() || self.leaveShown)) return;
      group.appendChild(h('button', { type: 'button', text: String(a.label), onclick: function () {
        // Leaving a message is a form here; the message itself goes out as leave_message.
        if (a.id === 'leave_message') self.showLeave();
        else {
          self.client.send({ type: 'action', id: a.id });
          if (a.id === 'talk_to_person') self.askedHuman = true;
        }
        group.remove();
      } }));
    });
    if (group.childNodes.length) this.append(group, false, f.seq <= this.liveFrom);
  };
