  // ---- console/archive-view.js ---------------------------------------------------------
  // The archive page: old conversations searched over HTTP (GET /v1/agent/archive, with the
  // agent's token), newest first, within the agent's sites; one opens read-only.

  var ARCHIVE_FIELDS = [
    ['text', 'Words', 'search', 'parcel, refund\u2026'],
    ['visitor', 'Visitor', 'search', 'email, id or name'],
    ['email', 'Email left', 'email', 'ann@example.com'],
    ['site', 'Site', 'search', 'demo'],
    ['agent', 'Agent id', 'search', 'dev'],
    ['from', 'From', 'date', ''],
    ['to', 'To', 'date', '']
  ];

  /** The form's values as the endpoint's query: dates as RFC 3339 (a whole day, local time). */
  function archiveQuery(values) {
    var parts = [];
    Object.keys(values).forEach(function (k) {
      var v = String(values[k] == null ? '' : values[k]).trim();
      if (!v) return;
      if (k === 'from' || k === 'to') {
        var day = new Date(v + 'T00:00:00');
        if (isNaN(day.getTime())) return;
        if (k === 'to') day = new Date(day.getTime() + 86400000);
        v = day.toISOString();
      }
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
    });
    return parts.join('&');
  }

  /** "2 Dec 2026, 14:05" in local time. */
  function when(at) {
    var t = new Date(at);
    if (isNaN(t.getTime())) return '';
    return t.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' }) + ', ' + clock(at);
  }

  View.prototype.buildArchive = function () {
    var h = this.h.bind(this);
    var self = this;
    this.archiveInputs = {};
    var fields = ARCHIVE_FIELDS.map(function (f) {
      var input = h('input', { id: 'archive-' + f[0], name: f[0], type: f[2], placeholder: f[3] || null, spellcheck: 'false' });
      self.archiveInputs[f[0]] = input;
      return h('label', { class: 'afield' }, [h('span', { text: f[1] }), input]);
    });
    var reasons = [h('option', { value: '', text: 'Any reason' })].concat(Object.keys(REASONS).map(function (r) {
      return h('option', { value: r, text: reasonInfo(r).label });
    }));
    this.archiveInputs.reason = h('select', { id: 'archive-reason', name: 'reason' }, reasons);
    fields.push(h('label', { class: 'afield' }, [h('span', { text: 'Escalated because' }), this.archiveInputs.reason]));
    this.archiveStatus = h('p', { class: 'archive-status', role: 'status', 'aria-live': 'polite' });
    this.archiveList = h('ul', { class: 'archive-list', 'aria-label': 'Archived conversations' });
    this.archiveOpen = h('div', { class: 'archive-open', role: 'log', 'aria-label': 'Archived transcript' });
    this.archiveHead = h('div', { class: 'archive-head' }, [h('p', { class: 'archive-pick', text: 'Pick a conversation to read its transcript.' })]);
    var form = h('form', { class: 'archive-form', role: 'search', onsubmit: function (e) { e.preventDefault(); self.searchArchive(); } },
      fields.concat([h('div', { class: 'afield afield-go' }, [h('button', { type: 'submit', class: 'primary', text: 'Search' })])]));
    return h('section', { class: 'archive', hidden: true, 'aria-labelledby': 'archive-h' }, [
      h('div', { class: 'archive-top' }, [h('h2', { id: 'archive-h', text: 'Archive' }),
        h('span', { class: 'fine', text: 'Past conversations of your sites, read-only.' }), h('span', { class: 'grow' }),
        h('button', { type: 'button', text: 'Back to chats', onclick: function () { self.showArchive(false); } })]),
      form,
      h('div', { class: 'archive-body' }, [
        h('div', { class: 'archive-results' }, [this.archiveStatus, this.archiveList]),
        h('div', { class: 'archive-transcript' }, [this.archiveHead, this.archiveOpen])
      ])
    ]);
  };

  View.prototype.showArchive = function (open) {
    if (open && this.reportsShown) this.showReports(false);
    if (open && this.webhooksShown) this.showWebhooks(false);
    if (open && this.keysShown) this.showKeys(false);
    this.archiveShown = !!open;
    this.archive.hidden = !open || !this.desk.signedIn;
    this.work.hidden = !!open || !this.desk.signedIn;
    this.archiveBtn.setAttribute('aria-pressed', open ? 'true' : 'false');
    if (open && !this.archiveSearched) this.searchArchive();
    if (open && this.archiveInputs.text.focus) this.archiveInputs.text.focus();
  };

  /** GET (or `method`, with `body` as JSON) with the agent's token; resolves to the JSON body, rejects with a readable message. */
  View.prototype.archiveFetch = function (path, method, body) {
    var token = this.desk.store.get('token') || '';
    var init = { method: method || 'GET', headers: { Authorization: 'Bearer ' + token } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return root.fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) throw new Error(body.message || ('The archive answered ' + res.status));
        return body;
      });
    });
  };

  View.prototype.searchArchive = function () {
    var self = this;
    var values = {};
    Object.keys(this.archiveInputs).forEach(function (k) { values[k] = self.archiveInputs[k].value; });
    this.archiveSearched = true;
    this.archiveStatus.textContent = 'Searching\u2026';
    return this.archiveFetch('/v1/agent/archive?' + archiveQuery(values)).then(function (body) {
      var items = body.items || [];
      self.archiveStatus.textContent = items.length ? items.length + (items.length === 1 ? ' conversation' : ' conversations')
        : 'No archived conversation matches.';
      self.archiveList.replaceChildren.apply(self.archiveList, items.map(function (item) { return self.archiveItem(item); }));
    }, function (error) {
      self.archiveStatus.textContent = error.message;
      self.archiveList.replaceChildren();
    });
  };

  View.prototype.archiveItem = function (item) {
    var h = this.h.bind(this);
    var self = this;
    var meta = [h('span', { class: 'awhen', text: when(item.started_at) }), h('span', { class: 'asite', text: item.site })];
    if (item.reason) meta.push(this.chip(item.reason));
    var button = h('button', { type: 'button', class: 'aitem', 'data-id': item.conversation_id,
      onclick: function () { self.openArchived(item.conversation_id, button); } }, [
      h('div', { class: 'qrow' }, meta),
      h('div', { class: 'afirst', text: item.first_message || '(no visitor message)' }),
      h('div', { class: 'fine', text: (item.email ? item.email + ' \u00b7 ' : '') + item.state })
    ]);
    return h('li', {}, [button]);
  };

  View.prototype.openArchived = function (id, button) {
    var self = this;
    var h = this.h.bind(this);
    Array.prototype.forEach.call(this.archiveList.querySelectorAll('.aitem'), function (b) { b.classList.remove('selected'); });
    if (button) button.classList.add('selected');
    return this.archiveFetch('/v1/agent/archive/' + encodeURIComponent(id)).then(function (c) {
      self.archiveHead.replaceChildren(
        h('h3', { class: 'chat-title', text: visitorLabel(c) + ' \u00b7 ' + when(c.started_at) }),
        h('p', { class: 'banner archived', text: 'Archived conversation on ' + c.site + ', ' + c.state + '. Read-only.' }));
      var nodes = (c.events || []).map(function (e) { return self.eventNode(e); }).filter(Boolean);
      self.archiveOpen.replaceChildren.apply(self.archiveOpen, nodes);
      self.archiveOpen.scrollTop = 0;
    }, function (error) {
      self.archiveHead.replaceChildren(h('p', { class: 'banner offline', text: error.message }));
      self.archiveOpen.replaceChildren();
    });
  };
