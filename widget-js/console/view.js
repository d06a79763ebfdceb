  // ---- console/view.js -----------------------------------------------------------------
  // The View: builds the page once and updates its parts from the desk.

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
    this.archiveBtn = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', text: 'Archive',
      onclick: function () { self.showArchive(!self.archiveShown); } });
    this.reportsBtn = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', text: 'Reports', hidden: true,
      onclick: function () { self.showReports(!self.reportsShown); } });
    this.webhooksBtn = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', text: 'Webhooks', hidden: true,
      onclick: function () { self.showWebhooks(!self.webhooksShown); } });
    this.keysBtn = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', text: 'API keys', hidden: true,
      onclick: function () { self.showKeys(!self.keysShown); } });
    this.top = h('header', { class: 'top' }, [
      h('div', { class: 'brand' }, ['Baton', h('span', { text: 'console' })]),
      this.conn, h('div', { class: 'grow' }), this.reportsBtn, this.webhooksBtn, this.keysBtn, this.archiveBtn, this.alertBtn,
      h('button', { type: 'button', class: 'ghost', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', text: '?', onclick: function () { self.toggleHelp(); } }),
      this.statusSel, this.agentName,
      h('button', { type: 'button', class: 'ghost', text: 'Sign out', onclick: function () { desk.signOut(); } })
    ]);

    this.queueCount = h('span', { class: 'count' });
    this.queueList = h('div', { class: 'queue', role: 'listbox', tabindex: '0', 'aria-label': 'Queue: j and k to move, Enter to take' });
    this.queueEmpty = h('p', { class: 'empty queue-empty', text: 'No one is waiting. New chats appear here as they arrive.' });
    this.mineCount = h('span', { class: 'count' });
    this.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical', 'aria-label': 'My chats' });
    this.mineEmpty = h('p', { class: 'empty', text: 'Chats you take appear here.' });
    this.doneCount = h('span', { class: 'count' });
    this.doneList = h('div', { class: 'tabs done-list' });
    this.doneBox = h('section', { class: 'done-box', 'aria-labelledby': 'done-h', hidden: true }, [
      h('h2', { id: 'done-h' }, ['Resolved today ', this.doneCount]), this.doneList
    ]);
    this.leftCount = h('span', { class: 'count' });
    this.leftList = h('ul', { class: 'left-list', 'aria-label': 'Messages left for the team' });
    this.leftBox = h('section', { class: 'left-box', 'aria-labelledby': 'left-h', hidden: true }, [
      h('h2', { id: 'left-h' }, ['Messages left ', this.leftCount]), this.leftList
    ]);
    var side = h('aside', { class: 'side' }, [
      h('section', { class: 'queue-box', 'aria-labelledby': 'queue-h' }, [
        h('h2', { id: 'queue-h' }, ['Queue ', this.queueCount]), this.queueList, this.queueEmpty
      ]),
      h('section', { class: 'mine-box', 'aria-labelledby': 'mine-h' }, [
        h('h2', { id: 'mine-h' }, ['My chats ', this.mineCount]), this.tabs, this.mineEmpty
      ]),
      this.doneBox,
      this.leftBox
    ]);

    this.chat = this.buildChat();
    // Below 1,100 px the context is a drawer (console.css), opened by "Details" or Alt+I.
    this.contextBody = h('div', { class: 'context-body' });
    this.context = h('aside', { class: 'context', id: 'context', 'aria-label': 'About this chat' }, [
      h('div', { class: 'drawer-head' }, [h('strong', { text: 'About this chat' }), h('span', { class: 'grow' }),
        h('button', { type: 'button', class: 'drawer-close', text: 'Close', onclick: function () { self.drawer(false); } })]),
      this.contextBody
    ]);
    this.work = h('main', { class: 'work' }, [side, this.chat, this.context]);
    this.notice = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    this.help = this.buildHelp();
    this.archive = this.buildArchive();
    this.reports = this.buildReports();
    this.webhooks = this.buildWebhooks();
    this.keys = this.buildKeys();
    this.app = h('div', { class: 'app' }, [this.top, this.work, this.archive, this.reports, this.webhooks, this.keys, this.signin, this.notice, this.help]);
    host.appendChild(this.app);

    this.queueList.addEventListener('click', function (e) { self.queueClick(e); });
    desk.onChange(function (what, id) { self.update(what, id); });
    if (this.doc.addEventListener) this.doc.addEventListener('keydown', function (e) { self.key(e); });
    this.render();
    if (this.clock.setInterval) this.clock.setInterval(function () { self.tick(); }, TICK_MS);
    return this;
  };

  // -- updates

  View.prototype.update = function (what, id) {
    var d = this.desk;
    if (what === 'session') return this.render();
    if (what === 'conn' || what === 'agent') this.renderTop();
    if (what === 'queue') this.renderQueue();
    if (what === 'notice') this.renderNotice();
    if (what === 'roster') this.renderRoster();
    if (what === 'left') {
      this.renderLeft();
      this.renderChat(false);
    }
    if (what === 'chats' || what === 'chat' || what === 'active' || what === 'unread') this.renderTabs();
    if (what === 'active' || what === 'chats' || (what === 'chat' && id === d.active) || what === 'conn' || what === 'agent') this.renderChat(what === 'active');
    this.renderTitle();
  };

  View.prototype.render = function () {
    var d = this.desk;
    this.signin.hidden = d.signedIn;
    this.top.hidden = this.work.hidden = !d.signedIn;
    if (d.signedIn && (this.archiveShown || this.reportsShown || this.webhooksShown || this.keysShown)) this.work.hidden = true;
    this.archive.hidden = !d.signedIn || !this.archiveShown;
    this.reports.hidden = !d.signedIn || !this.reportsShown;
    this.webhooks.hidden = !d.signedIn || !this.webhooksShown;
    this.keys.hidden = !d.signedIn || !this.keysShown;
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

  var CONN = { open: 'Connected', connecting: 'Connecting\u2026', closed: 'Offline: reconnecting\u2026', idle: 'Not connected' };

  View.prototype.renderTop = function () {
    var d = this.desk;
    this.conn.textContent = CONN[d.conn] || d.conn;
    this.conn.className = 'conn conn-' + d.conn;
    this.agentName.textContent = d.agent ? (d.agent.name || d.agent.id || '') : '';
    // Reports, webhooks and API keys are for admins (the server checks the role again on every request).
    this.reportsBtn.hidden = this.webhooksBtn.hidden = this.keysBtn.hidden = !(d.agent && d.agent.admin);
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
