  // ---- console/webhooks-view.js --------------------------------------------------------
  // The Webhooks page, for agents with the admin role: each webhook subscription of the
  // admin's sites with its newest deliveries (GET /v1/agent/webhooks, the agent's token):
  // event, status, attempts, next retry and last error, and a Redeliver button per delivery
  // (POST …/deliveries/ID/redeliver). The server checks the role on every request.

  /** A delivery's status as a chip: [label, tone]. */
  var DELIVERY_STATUS = {
    delivered: ['Delivered', 'teal'],
    pending: ['Retrying', 'amber'],
    failed: ['Given up', 'red']
  };

  /** What the page shows of one delivery, from the endpoint's view of it. */
  function deliveryRow(d, now) {
    var status = DELIVERY_STATUS[d.status] || [String(d.status || ''), 'slate'];
    var label = status[0];
    if (d.status === 'pending' && !d.attempts) label = 'Queued';
    var next = '\u2013';
    if (d.status === 'pending' && d.next_at) {
      var wait = new Date(d.next_at).getTime() - now;
      next = wait > 1000 ? 'in ' + formatWait(wait) : 'now';
    }
    var error = d.last_error || (d.last_status && d.status !== 'delivered' ? 'answered ' + d.last_status : '');
    return { event: d.event_type, conversation: String(d.conversation_id || '').slice(0, 8), status: label, tone: status[1],
      attempts: String(d.attempts || 0), next: next, error: error || '\u2013', at: when(d.created_at) };
  }

  View.prototype.buildWebhooks = function () {
    var h = this.h.bind(this);
    var self = this;
    this.webhookStatus = h('p', { class: 'archive-status', role: 'status', 'aria-live': 'polite' });
    this.webhookBody = h('div', { class: 'webhook-list' });
    return h('section', { class: 'archive webhooks', hidden: true, 'aria-labelledby': 'webhooks-h' }, [
      h('div', { class: 'archive-top' }, [h('h2', { id: 'webhooks-h', text: 'Webhooks' }),
        h('span', { class: 'fine', text: 'Each subscription\u2019s newest deliveries. Redeliver sends one again now.' }),
        h('span', { class: 'grow' }),
        h('button', { type: 'button', text: 'Refresh', onclick: function () { self.loadWebhooks(); } }),
        h('button', { type: 'button', text: 'Back to chats', onclick: function () { self.showWebhooks(false); } })]),
      h('div', { class: 'report-scroll', tabindex: '0', role: 'group', 'aria-label': 'Webhook subscriptions' },
        [this.webhookStatus, this.webhookBody])
    ]);
  };

  View.prototype.showWebhooks = function (open) {
    if (open && this.archiveShown) this.showArchive(false);
    if (open && this.reportsShown) this.showReports(false);
    if (open && this.keysShown) this.showKeys(false);
    this.webhooksShown = !!open;
    this.webhooks.hidden = !open || !this.desk.signedIn;
    this.work.hidden = !!open || !this.desk.signedIn || !!this.archiveShown || !!this.reportsShown;
    this.webhooksBtn.setAttribute('aria-pressed', open ? 'true' : 'false');
    if (open) this.loadWebhooks();
  };

  View.prototype.loadWebhooks = function () {
    var self = this;
    this.webhookStatus.textContent = 'Loading\u2026';
    return this.archiveFetch('/v1/agent/webhooks').then(function (body) {
      var items = body.items || [];
      self.webhookStatus.textContent = items.length ? '' : 'No webhook subscription on your sites. Make one with the API (POST /v1/api/webhooks).';
      self.webhookBody.replaceChildren.apply(self.webhookBody, items.map(function (s) { return self.subscriptionCard(s); }));
    }, function (error) {
      self.webhookStatus.textContent = error.message;
      self.webhookBody.replaceChildren();
    });
  };

  View.prototype.subscriptionCard = function (s) {
    var h = this.h.bind(this);
    var self = this;
    var meta = [h('span', { class: 'asite', text: s.site }), h('span', { class: 'fine', text: (s.events || []).join(', ') })];
    if (s.previous_secret_until) meta.push(h('span', { class: 'fine', text: 'Old secret signs too until ' + when(s.previous_secret_until) }));
    var rows = (s.deliveries || []).map(function (d) { return self.deliveryTr(s, d); });
    var head = ['Event', 'Conversation', 'Status', 'Attempts', 'Next retry', 'Last error', 'Created', ''];
    var table = rows.length ? h('div', { class: 'rtable-wrap' }, [h('table', { class: 'rtable wtable' }, [
      h('thead', {}, [h('tr', {}, head.map(function (c) { return h('th', { scope: 'col', text: c }); }))]),
      h('tbody', {}, rows)])]) : h('p', { class: 'fine', text: 'No delivery yet: events after the subscription was made are sent here.' });
    return h('section', { class: 'rsection wsub', 'data-id': s.id, 'aria-label': 'Subscription ' + s.url }, [
      h('h3', { class: 'wurl mono', text: s.url }), h('div', { class: 'qrow wmeta' }, meta), table]);
  };

  View.prototype.deliveryTr = function (s, d) {
    var h = this.h.bind(this);
    var self = this;
    var row = deliveryRow(d, this.now());
    var button = h('button', { type: 'button', class: 'redeliver', text: 'Redeliver', 'aria-label': 'Redeliver ' + row.event + ' ' + row.conversation,
      onclick: function () { self.redeliver(s, d, tr, button); } });
    // data-label: on a phone each row is a small card, its cells labelled (console.css).
    var tr = h('tr', { 'data-id': d.id }, [
      h('th', { scope: 'row', text: row.event }),
      h('td', { class: 'mono', 'data-label': 'Conversation', text: row.conversation }),
      h('td', { 'data-label': 'Status' }, [h('span', { class: 'chip tone-' + row.tone, text: row.status })]),
      h('td', { 'data-label': 'Attempts', text: row.attempts }),
      h('td', { 'data-label': 'Next retry', text: row.next }),
      h('td', { class: 'werror', 'data-label': 'Last error', title: row.error, text: row.error }),
      h('td', { 'data-label': 'Created', text: row.at }),
      h('td', { class: 'wact' }, [button])
    ]);
    return tr;
  };

  View.prototype.redeliver = function (s, d, tr, button) {
    var self = this;
    button.disabled = true;
    var path = '/v1/agent/webhooks/' + encodeURIComponent(s.id) + '/deliveries/' + encodeURIComponent(d.id) + '/redeliver';
    return this.archiveFetch(path, 'POST').then(function (again) {
      tr.replaceWith(self.deliveryTr(s, again));
      self.webhookStatus.textContent = 'Sent again: ' + again.event_type + '. Refresh to see how it went.';
    }, function (error) {
      button.disabled = false;
      self.webhookStatus.textContent = error.message;
    });
  };
