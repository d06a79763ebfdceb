  // ---- console/keys-view.js ------------------------------------------------------------
  // The API keys page, for agents with the admin role: the owner API's keys of the admin's
  // sites (GET /v1/agent/keys, the agent's token): name, the key's first characters, site,
  // scope, created, revoked. A form makes one (POST /v1/agent/keys): its secret is shown
  // once, with a Copy button, and never again. Revoke asks first, then DELETE …/keys/ID.
  // The server checks the role and the site on every request; it never sends a key's hash.

  /** What each scope lets a key do (each includes the ones before it). */
  var KEY_SCOPES = [
    ['read', 'Read (view only)'],
    ['write', 'Write (also act and change)'],
    ['admin', 'Admin (also keys, webhooks)']
  ];
  var MAX_KEY_NAME = 100;

  /** What the page shows of one key, from the endpoint's view of it. */
  function keyRow(k) {
    var revoked = !!k.revoked_at;
    return { id: k.id, name: k.name || '(no name)', prefix: (k.prefix || '') + '\u2026', site: k.site, scope: k.scope,
      created: when(k.created_at), status: revoked ? 'Revoked ' + when(k.revoked_at) : 'Active',
      tone: revoked ? 'slate' : 'teal', active: !revoked };
  }

  /** The create form's values as the endpoint's body, or what is wrong with them. */
  function keyRequest(values) {
    var name = String(values.name || '').trim();
    if (!name) return { error: 'Give the key a name, to recognise where it is used.' };
    if (name.length > MAX_KEY_NAME) return { error: 'The name is at most ' + MAX_KEY_NAME + ' characters.' };
    if (!values.site) return { error: 'Choose the site the key is for.' };
    var known = KEY_SCOPES.some(function (s) { return s[0] === values.scope; });
    if (!known) return { error: 'Choose a scope: read, write or admin.' };
    return { body: { site: values.site, scope: values.scope, name: name } };
  }

  View.prototype.buildKeys = function () {
    var h = this.h.bind(this);
    var self = this;
    this.keyStatus = h('p', { class: 'archive-status', role: 'status', 'aria-live': 'polite' });
    this.keyName = h('input', { id: 'key-name', type: 'text', maxlength: String(MAX_KEY_NAME), autocomplete: 'off', placeholder: 'e.g. CRM sync' });
    this.keySite = h('select', { id: 'key-site' });
    this.keyScope = h('select', { id: 'key-scope' }, KEY_SCOPES.map(function (s) { return h('option', { value: s[0], text: s[1] }); }));
    this.keySecret = h('div', { class: 'rsection key-secret', hidden: true, role: 'region', 'aria-label': 'The new key' });
    this.keyBody = h('div', { class: 'key-list' });
    var form = h('form', { class: 'rsection key-form', 'aria-label': 'Make a key', onsubmit: function (e) { e.preventDefault(); self.createKey(); } }, [
      h('h3', { text: 'Make a key' }),
      h('div', { class: 'key-fields' }, [
        h('label', { for: 'key-name', text: 'Name' }), this.keyName,
        h('label', { for: 'key-site', text: 'Site' }), this.keySite,
        h('label', { for: 'key-scope', text: 'Scope' }), this.keyScope,
        h('button', { type: 'submit', class: 'primary', text: 'Create key' })])
    ]);
    return h('section', { class: 'archive keys', hidden: true, 'aria-labelledby': 'keys-h' }, [
      h('div', { class: 'archive-top' }, [h('h2', { id: 'keys-h', text: 'API keys' }),
        h('span', { class: 'fine', text: 'Keys of the owner API (Authorization: Bearer KEY). Revoked keys authenticate nothing.' }),
        h('span', { class: 'grow' }),
        h('button', { type: 'button', text: 'Refresh', onclick: function () { self.loadKeys(); } }),
        h('button', { type: 'button', text: 'Back to chats', onclick: function () { self.showKeys(false); } })]),
      h('div', { class: 'report-scroll', tabindex: '0', role: 'group', 'aria-label': 'API keys' },
        [form, this.keySecret, this.keyStatus, this.keyBody])
    ]);
  };

  View.prototype.showKeys = function (open) {
    if (open && this.archiveShown) this.showArchive(false);
    if (open && this.reportsShown) this.showReports(false);
    if (open && this.webhooksShown) this.showWebhooks(false);
    this.keysShown = !!open;
    this.keys.hidden = !open || !this.desk.signedIn;
    this.work.hidden = !!open || !this.desk.signedIn;
    this.keysBtn.setAttribute('aria-pressed', open ? 'true' : 'false');
    if (!open) this.keySecret.hidden = true; // the secret is shown once: leaving the page forgets it
    if (!open) this.keySecret.replaceChildren();
    if (open) this.loadKeys();
  };

  /** Reloads the list; `said` (what was just done) stays in the status line after. */
  View.prototype.loadKeys = function (said) {
    var self = this;
    this.keyStatus.textContent = 'Loading\u2026';
    return this.archiveFetch('/v1/agent/keys').then(function (body) {
      var items = body.items || [];
      var chosen = self.keySite.value;
      self.keySite.replaceChildren.apply(self.keySite, (body.sites || []).map(function (s) { return self.h('option', { value: s, text: s }); }));
      if (chosen && (body.sites || []).indexOf(chosen) >= 0) self.keySite.value = chosen;
      self.keyStatus.textContent = said || (items.length ? '' : 'No API key on your sites yet.');
      self.keyBody.replaceChildren.apply(self.keyBody, items.length ? [self.keyTable(items)] : []);
    }, function (error) {
      self.keyStatus.textContent = error.message;
      self.keyBody.replaceChildren();
    });
  };

  View.prototype.keyTable = function (items) {
    var h = this.h.bind(this);
    var self = this;
    var head = ['Name', 'Key', 'Site', 'Scope', 'Created', 'Status', ''];
    return h('div', { class: 'rsection rtable-wrap' }, [h('table', { class: 'rtable wtable ktable' }, [
      h('thead', {}, [h('tr', {}, head.map(function (c) { return h('th', { scope: 'col', text: c }); }))]),
      h('tbody', {}, items.map(function (k) { return self.keyTr(k); }))])]);
  };

  View.prototype.keyTr = function (k) {
    var h = this.h.bind(this);
    var self = this;
    var row = keyRow(k);
    var act = h('td', { class: 'wact' });
    var ask = function () {
      act.replaceChildren(h('span', { class: 'fine', text: 'Revoke? Calls with it fail at once.' }),
        h('button', { type: 'button', class: 'danger revoke-yes', text: 'Yes, revoke', onclick: function () { self.revokeKey(k, tr); } }),
        h('button', { type: 'button', class: 'revoke-no', text: 'Cancel', onclick: function () { act.replaceChildren(button); button.focus(); } }));
      act.querySelector('.revoke-no').focus();
    };
    var button = h('button', { type: 'button', class: 'revoke', text: 'Revoke', 'aria-label': 'Revoke ' + row.name, onclick: ask });
    if (row.active) act.appendChild(button);
    var tr = h('tr', { 'data-id': row.id }, [
      h('th', { scope: 'row', text: row.name }),
      h('td', { class: 'mono', 'data-label': 'Key', text: row.prefix }),
      h('td', { 'data-label': 'Site', text: row.site }),
      h('td', { 'data-label': 'Scope', text: row.scope }),
      h('td', { 'data-label': 'Created', text: row.created }),
      h('td', { 'data-label': 'Status' }, [h('span', { class: 'chip tone-' + row.tone, text: row.status })]),
      act
    ]);
    return tr;
  };

  View.prototype.createKey = function () {
    var self = this;
    var asked = keyRequest({ name: this.keyName.value, site: this.keySite.value, scope: this.keyScope.value });
    if (asked.error) {
      this.keyStatus.textContent = asked.error;
      return Promise.resolve();
    }
    this.keyStatus.textContent = 'Making the key\u2026';
    return this.archiveFetch('/v1/agent/keys', 'POST', asked.body).then(function (made) {
      self.keyName.value = '';
      self.showSecret(made);
      return self.loadKeys('Made: ' + made.name + '.');
    }, function (error) {
      self.keyStatus.textContent = error.message;
    });
  };

  /** The new key's secret, once: a Copy button, and a clear word that it will not be shown again. */
  View.prototype.showSecret = function (made) {
    var h = this.h.bind(this);
    var self = this;
    var secret = h('code', { class: 'mono key-value', text: made.key || '' });
    var copied = h('span', { class: 'fine', role: 'status', 'aria-live': 'polite' });
    var copy = h('button', { type: 'button', class: 'primary', text: 'Copy', onclick: function () {
      var clip = root.navigator && root.navigator.clipboard;
      var done = function () { copied.textContent = 'Copied.'; };
      var select = function () {
        root.getSelection().selectAllChildren(secret);
        copied.textContent = 'Selected: press Ctrl+C (\u2318C) to copy.';
      };
      if (clip && clip.writeText) clip.writeText(made.key).then(done, select);
      else select();
    } });
    this.keySecret.replaceChildren(
      h('h3', { text: 'Key \u201c' + made.name + '\u201d for ' + made.site + ' (' + made.scope + ')' }),
      h('p', { class: 'key-warn', text: 'Copy it now: you will not see this key again. Baton keeps only its hash.' }),
      h('div', { class: 'qrow key-copy' }, [secret, copy, copied]),
      h('button', { type: 'button', text: 'Done, I have copied it', onclick: function () {
        self.keySecret.hidden = true;
        self.keySecret.replaceChildren();
      } }));
    this.keySecret.hidden = false;
    copy.focus();
  };

  View.prototype.revokeKey = function (k, tr) {
    var self = this;
    return this.archiveFetch('/v1/agent/keys/' + encodeURIComponent(k.id), 'DELETE').then(function () {
      return self.loadKeys('Revoked: ' + (k.name || k.prefix) + '. It authenticates nothing now.');
    }, function (error) {
      self.keyStatus.textContent = error.message;
      if (tr.isConnected) self.loadKeys();
    });
  };
