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
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'off' });
    this.intro = h('div', { class: 'msg bot intro', hidden: true });
    this.log.appendChild(this.intro);
    this.typingEl = h('div', { class: 'typing', hidden: true });
    this.queueCard = h('div', { class: 'card', role: 'status', hidden: true });
    this.leaveCard = h('div', { class: 'card', hidden: true });
    this.csatCard = h('div', { class: 'card', hidden: true });
    this.humanBtn = h('button', { class: 'link', type: 'button', onclick: function () { self.requestHuman(); } });
    this.endBtn = h('button', { class: 'link end', type: 'button', onclick: function () { self.end(); } });
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
      [this.input, this.sendBtn]);
    this.newBtn = h('button', { class: 'primary', type: 'button', hidden: true, onclick: function () { self.newChat(); } });
    this.links = h('div', { class: 'links' }, [this.humanBtn, this.endBtn]);
    this.announcer = h('div', { class: 'sr', role: 'log', 'aria-live': 'polite' });

    this.panel = h('section', { class: 'panel', role: 'dialog', hidden: true,
      onkeydown: function (e) { if (e.key === 'Escape') self.close(); } }, [
      h('div', { class: 'head' }, [h('div', { class: 'head-text' }, [this.titleEl, this.sub]), this.xBtn]),
      this.notice, this.banner, this.log, this.typingEl, this.queueCard, this.leaveCard, this.csatCard,
      h('div', { class: 'foot' }, [this.links, this.compose, this.newBtn]),
      this.announcer
    ]);
    this.rootEl = h('div', { class: 'root' }, [this.panel, this.launcher]);
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
    this.launcher.setAttribute('aria-label', this.panelOpen ? t('close') : t('open'));
    this.xBtn.setAttribute('aria-label', t('close'));
    this.titleEl.textContent = this.look('title');
    this.panel.setAttribute('aria-label', this.look('title'));
    this.notice.textContent = this.aiNotice || this.look('ai_notice');
    this.log.setAttribute('aria-label', this.look('title'));
    this.humanBtn.textContent = t('human');
    this.endBtn.textContent = t('end');
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
    var withAgent = s === 'agent' && this.agent;
    this.sub.textContent = withAgent ? t('agentTitle', { name: this.agent.name }) :
      s === 'queued' ? t('waiting') : s === 'resolved' ? t('ended') : this.look('bot_name');
    this.notice.hidden = !!withAgent;
    this.links.hidden = s === 'resolved';
    this.humanBtn.hidden = s === 'queued' || s === 'agent';
    this.compose.hidden = s === 'resolved';
    this.newBtn.hidden = s !== 'resolved';
    if (s !== 'queued') this.queueCard.hidden = true;
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
    this.log.scrollTop = this.log.scrollHeight;
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
    this.emitHook('unread', n);
  };

  // ---- the log ------------------------------------------------------------------------

  /** Runs change(), then keeps the log scrolled to the end if it was there before. */
  Widget.prototype.stick = function (change, force) {
    var log = this.log;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    change();
    if (atBottom || force) log.scrollTop = log.scrollHeight;
  };

  /** Confirmed items go before the first pending (unsent) message; pending ones go last. */
  Widget.prototype.append = function (el, pending) {
    var log = this.log;
    this.stick(function () { log.insertBefore(el, pending ? null : log.querySelector('.pending')); }, pending);
  };

  Widget.prototype.announce = function (text) {
    var a = this.announcer;
    a.appendChild(h('p', { text: text }));
    while (a.childNodes.length > 3) a.removeChild(a.firstChild);
  };

  Widget.prototype.systemLine = function (text) {
    this.append(h('div', { class: 'system', text: text }));
  };

  Widget.prototype.visitorBubble = function (clientId, text, pending) {
    var el = this.bubbles[clientId];
    if (!el) {
      el = h('div', { class: 'msg visitor', text: text });
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

  Widget.prototype.authorLabel = function (f) {
    var name = (f.author && f.author.name) || (f.from === 'bot' ? this.look('bot_name') : '');
    var key = f.from + ':' + name;
    if (key !== this.lastAuthor && name) this.append(h('div', { class: 'who', text: name }));
    this.lastAuthor = key;
    return name;
  };

  Widget.prototype.actions = function (f) {
    var self = this;
    var old = this.log.querySelectorAll('.actions');
    for (var i = 0; i < old.length; i++) old[i].remove();
    if (!Array.isArray(f.actions) || !f.actions.length) return;
    var group = h('div', { class: 'actions', role: 'group' });
    f.actions.forEach(function (a) {
      group.appendChild(h('button', { type: 'button', text: String(a.label), onclick: function () {
        // Leaving a message is a form here; the message itself goes out as leave_message.
        if (a.id === 'leave_message') self.showLeave();
        else self.client.send({ type: 'action', id: a.id });
        group.remove();
      } }));
    });
    this.append(group);
  };
