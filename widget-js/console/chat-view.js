  // ---- console/chat-view.js ------------------------------------------------------------
  // The open chat: header, transcript, composer.

  View.prototype.buildChat = function () {
    var h = this.h.bind(this);
    var self = this;
    var desk = this.desk;
    this.chatTitle = h('h2', { class: 'chat-title' });
    this.chatMeta = h('div', { class: 'chat-meta' });
    this.transferTo = h('select', { class: 'transfer-to', 'aria-label': 'Transfer to' });
    this.transferNote = h('textarea', { class: 'transfer-note', rows: '2', maxlength: String(MAX_TEXT),
      'aria-label': 'Note for the next agent', placeholder: 'Note for the next agent (only agents see it)' });
    this.transferForm = h('form', { class: 'transfer', hidden: true, onsubmit: function (e) {
      e.preventDefault();
      var v = self.transferTo.value;
      if (!v) return;
      var to = v.indexOf('team:') === 0 ? { team: v.slice(5) } : { agent_id: v.slice(6) };
      desk.transfer(desk.active, to, self.transferNote.value);
      self.transferNote.value = '';
      self.transferForm.hidden = true;
    } }, [this.transferTo, this.transferNote, h('div', { class: 'transfer-row' }, [
      h('button', { type: 'submit', class: 'primary', text: 'Transfer' }),
      h('button', { type: 'button', class: 'ghost', text: 'Cancel', onclick: function () { self.transferForm.hidden = true; } })])]);
    this.detailsBtn = h('button', { type: 'button', class: 'act-details', title: 'Alt+I', 'aria-controls': 'context', 'aria-expanded': 'false',
      onclick: function () { self.drawer(!self.drawerOpen); } }, ['Details', h('kbd', { text: 'Alt I' })]);
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
      oninput: function () { self.onInput(); }, onfocus: function () { self.desk.open(self.desk.active); } });
    this.modeReply = h('button', { type: 'button', role: 'tab', class: 'mode', text: 'Reply', onclick: function () { self.setMode('reply'); } });
    this.modeNote = h('button', { type: 'button', role: 'tab', class: 'mode mode-note', onclick: function () { self.setMode('note'); } }, [this.icon(ICON_LOCK), ' Internal note', h('kbd', { text: 'Alt N' })]);
    this.noteHint = h('div', { class: 'note-hint', hidden: true }, [this.icon(ICON_LOCK), ' Internal note: only agents see this. The visitor never does.']);
    this.sendBtn = h('button', { type: 'submit', class: 'primary send' });
    var fileButtons = this.buildFiles();
    this.composer = h('form', { class: 'composer', onsubmit: function (e) { e.preventDefault(); self.run('send'); } }, [
      h('div', { class: 'modes', role: 'tablist', 'aria-label': 'Composer mode' }, [this.modeReply, this.modeNote]),
      this.noteHint, this.input, this.uploads,
      h('div', { class: 'composer-row' }, fileButtons.concat([h('span', { class: 'fine', text: 'Enter or Ctrl+Enter sends \u00b7 Shift+Enter new line \u00b7 Esc back to queue' }), this.sendBtn]))
    ]);
    this.chatEmpty = h('div', { class: 'chat-empty' }, [
      h('p', { class: 'big', text: 'No chat open' }),
      h('p', { text: 'Pick a chat from the queue: j / k to move, Enter to take it. Press ? for every shortcut.' })
    ]);
    this.chatBody = h('div', { class: 'chat-body', hidden: true }, [
      h('header', { class: 'chat-head' }, [h('div', { class: 'who' }, [this.chatTitle, this.chatMeta]), this.detailsBtn, this.actions, this.closeBtn]),
      this.transferForm, this.banner, this.transcript, this.typingLine, this.composer
    ]);
    return h('section', { class: 'chat', role: 'tabpanel', 'aria-label': 'Open chat' }, [this.chatEmpty, this.chatBody]);
  };

  View.prototype.renderChat = function (switched) {
    var d = this.desk;
    if (d.previewing) return this.renderPreview(d.previewing, d.previews[d.previewing]);
    if (this.previewShown) {
      this.previewShown = false;
      switched = true;
    }
    var c = d.chats[d.active];
    this.chatEmpty.hidden = !!c;
    this.chatBody.hidden = !c;
    if (!c) {
      this.contextBody.replaceChildren();
      this.drawer(false);
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
    this.countdown = this.h('span', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
    this.chatMeta.replaceChildren(this.chip(c.reason), this.h('span', { class: 'meta', text: [c.site, v.locale, page.title].filter(Boolean).join(' \u00b7 ') }), this.countdown);
    this.renderCountdown();
    this.actions.hidden = !!c.ended;
    this.closeBtn.hidden = !c.ended;
    this.renderBanner(c);
    this.renderMode(c);
    this.typingLine.textContent = c.typing ? visitorLabel(c) + ' is typing\u2026' : '';
    if (this.renderedChat.version !== c.version) {
      this.renderedChat.version = c.version;
      this.renderTranscript(c, switched);
    }
    var sig = JSON.stringify([c.reason, c.detail, c.signals, c.summary, c.suggestions, c.canned, c.visitor, c.previous, c.site, d.left.length, c.rating]);
    if (this.renderedChat.context !== sig) {
      this.renderedChat.context = sig;
      this.renderContext(c);
    }
  };

  /** A waiting chat, read-only: its transcript and context, and a way to take it. */
  View.prototype.renderPreview = function (id, view) {
    var h = this.h.bind(this);
    var self = this;
    var c = newChat(id);
    if (view) ['site', 'state', 'visitor', 'reason', 'detail', 'summary', 'signals', 'canned', 'attachments', 'rating', 'previous'].forEach(function (k) { if (view[k] != null) c[k] = view[k]; });
    c.events = mergeEvents([], view ? view.events : []);
    this.previewChat = c;
    this.previewShown = true;
    this.renderedChat = null;
    this.chatEmpty.hidden = true;
    this.chatBody.hidden = false;
    this.chatTitle.textContent = 'Preview: ' + visitorLabel(c);
    this.chatMeta.replaceChildren(this.chip(c.reason), h('span', { class: 'meta', text: [c.site, (c.visitor || {}).locale].filter(Boolean).join(' \u00b7 ') }));
    this.actions.hidden = this.closeBtn.hidden = this.transferForm.hidden = true;
    this.composer.hidden = true;
    this.typingLine.textContent = '';
    this.banner.hidden = false;
    this.banner.className = 'banner preview';
    this.banner.replaceChildren(h('span', { text: view ? 'Read-only: take the chat to reply. ' : 'Loading the transcript\u2026 ' }),
      h('button', { type: 'button', class: 'primary', text: 'Take this chat', onclick: function () { self.desk.take(id); } }));
    this.transcript.replaceChildren.apply(this.transcript, c.events.map(function (e) { return self.eventNode(e); }).filter(Boolean));
    this.transcript.scrollTop = this.transcript.scrollHeight;
    if (view) this.renderContext(c);
    else this.contextBody.replaceChildren();
  };

  View.prototype.renderBanner = function (c) {
    var d = this.desk;
    var text = '';
    if (c.ended) text = (ENDED[c.ended] || c.ended) + '. This chat is closed for you; Alt+W closes the tab.';
    else if (c.closing) text = { handback: 'Handing back to the bot\u2026', resolve: 'Resolving\u2026', transfer: 'Transferring\u2026' }[c.closing] || '';
    else if (d.conn !== 'open') text = 'Offline: what you send now goes out once the connection is back.';
    this.banner.replaceChildren(text);
    if (c.ended && c.reason) this.banner.appendChild(this.verdictRow(c));
    this.banner.hidden = !text;
    this.banner.className = 'banner' + (c.ended ? ' ended' : d.conn !== 'open' ? ' offline' : '');
    this.input.disabled = !!c.ended;
    this.composer.hidden = !!c.ended;
  };

  var VERDICTS = [['right_call', 'Right call'], ['bot_could_have_answered', 'The bot could have answered'], ['should_have_come_sooner', 'Should have come sooner']];

  /** Under a closed escalated chat: was handing it over right? One click, changeable. */
  View.prototype.verdictRow = function (c) {
    var h = this.h.bind(this);
    var desk = this.desk;
    var buttons = VERDICTS.map(function (v) {
      return h('button', { type: 'button', class: 'verdict-' + v[0], 'aria-pressed': c.verdict === v[0] ? 'true' : 'false',
        text: v[1], onclick: function () { desk.verdict(c.id, v[0]); } });
    });
    var label = c.verdict ? 'Thanks, noted. The handoff was:' : 'Was handing this chat over right?';
    return h('div', { class: 'verdict', role: 'group', 'aria-label': 'Your verdict on this handoff' },
      [h('span', { class: 'verdict-ask', text: label })].concat(buttons));
  };

  View.prototype.renderMode = function (c) {
    var note = c.mode === 'note';
    this.composer.className = 'composer' + (note ? ' noting' : '');
    this.noteHint.hidden = !note;
    this.clipBtn.hidden = note || !c.attachments;
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

  View.prototype.eventNode = function (e) {
    var h = this.h.bind(this);
    if (e.type === 'attachment') return this.fileNode(e, this.desk.chats[e.conversation_id] || this.previewChat);
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
    if (e.state === 'agent') return 'Assigned to ' + ((e.agent && e.agent.name) || 'an agent');
    if (e.state === 'bot') return 'Handed back to the bot';
    if (e.state === 'resolved') return 'Resolved';
    return 'State: ' + e.state;
  }

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

  /** The context drawer (narrow screens; on wide ones the panel is always there). */
  View.prototype.drawer = function (open) {
    this.drawerOpen = !!open;
    this.context.classList.toggle('open', this.drawerOpen);
    this.detailsBtn.setAttribute('aria-expanded', String(this.drawerOpen));
    if (open && this.context.querySelector) {
      var close = this.context.querySelector('.drawer-close');
      if (close && close.focus && this.narrow()) close.focus();
    }
  };

  /** "Answer within 2:41": the time left before an unanswered chat goes back to the queue;
   * hidden once this agent has written in it. Ticks with the queue's wait timers. */
  View.prototype.renderCountdown = function () {
    var el = this.countdown;
    var c = this.desk.chats[this.desk.active];
    if (!el) return;
    var answered = c && c.events.some(function (e) { return e.seq > c.answerAfter && e.type === 'message' && e.from === 'agent'; });
    if (!c || !c.answerBy || c.ended || answered) {
      el.hidden = true;
      return;
    }
    var left = Math.max(0, Math.floor((c.answerBy - this.desk.now()) / 1000));
    el.hidden = false;
    el.className = 'countdown' + (left <= 30 ? ' urgent' : '');
    el.textContent = left > 0 ? 'Answer within ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') : 'Answer now or it goes back to the queue';
  };

  /** Whether the context panel is a drawer now (the layout's own breakpoint). */
  View.prototype.narrow = function () {
    var w = this.doc.defaultView;
    return !!(w && w.matchMedia && w.matchMedia('(max-width: 1100px)').matches);
  };

  View.prototype.openTransfer = function () {
    var c = this.desk.chats[this.desk.active];
    if (!c || c.ended) return;
    this.transferForm.hidden = false;
    this.desk.askRoster(c.id);
    if (this.transferTo.focus) this.transferTo.focus();
  };

  /** The transfer form's choices: teams and agents with presence and free capacity, the ones
   * who can take the chat now first; the others listed but not selectable. */
  View.prototype.renderRoster = function () {
    var h = this.h.bind(this);
    var r = this.desk.roster;
    var me = this.desk.agent && this.desk.agent.id;
    var keep = this.transferTo.value;
    if (!r) {
      this.transferTo.replaceChildren(h('option', { value: '', text: 'Loading who is online\u2026' }));
      return;
    }
    var teams = r.teams.map(function (t) {
      var label = 'Team ' + t.team + ' \u00b7 ' + (t.free ? t.free + ' free' : t.online ? 'all full (waits in queue)' : 'nobody online (waits in queue)');
      return h('option', { value: 'team:' + t.team, text: label });
    });
    var agents = r.agents.filter(function (a) { return a.id !== me; }).map(function (a) {
      var state = a.presence === 'online' ? (a.free ? a.free + ' of ' + a.max_chats + ' free' : 'full') : a.presence;
      var teamsText = a.teams && a.teams.length ? ' (' + a.teams.join(', ') + ')' : '';
      return h('option', { value: 'agent:' + a.id, disabled: a.free ? null : 'disabled', text: a.name + teamsText + ' \u00b7 ' + state });
    });
    this.transferTo.replaceChildren(h('optgroup', { label: 'Agents' }, agents), h('optgroup', { label: 'Teams' }, teams));
    if (keep) this.transferTo.value = keep;
    if (!this.transferTo.value) {
      var first = agents.filter(function (o) { return !o.disabled; })[0] || teams[0];
      if (first) this.transferTo.value = first.value;
    }
  };
