  // ---- console/queue-view.js -----------------------------------------------------------
  // The side column: the queue, my chats, messages left.

  /** A mailto: link for a plain address only: no `?`, `&` or `#` can add recipients or a body. */
  function mailtoLink(email) {
    var address = String(email || '').trim();
    if (!/^[A-Za-z0-9.!$'*+=^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(address)) return null;
    return 'mailto:' + address;
  }

  /** Handled left messages listed under the open ones, newest first (the rest are counted). */
  var MAX_HANDLED_SHOWN = 20;

  var MAIL_KIND = { confirmation: 'Confirmation', reply: 'Reply', transcript: 'Transcript' };

  /** The emails Baton sent (or could not yet send) about a left message, one line. */
  function mailLine(h, list) {
    if (!list || !list.length) return null;
    return h('div', { class: 'left-mail' }, list.map(function (m) {
      var state = m.status === 'sent' ? 'sent' : m.status === 'failed' ? 'failed' : 'not yet sent';
      var tries = m.status !== 'sent' && m.attempts ? ' (' + m.attempts + (m.attempts === 1 ? ' try' : ' tries') + ')' : '';
      return h('span', { class: 'mail-' + (m.status === 'sent' ? 'sent' : m.status === 'failed' ? 'failed' : 'pending'),
        title: m.last_error || null, text: (MAIL_KIND[m.kind] || m.kind) + ' email ' + state + tries });
    }));
  }

  /** What visitors left when no one could take their chat: reply by email, mark handled.
   *  The handled mark is the site's (kept by the server): every agent of the site sees who. */
  View.prototype.renderLeft = function () {
    var h = this.h.bind(this);
    var self = this;
    var desk = this.desk;
    var left = desk.left.filter(function (m) { return !desk.isHandled(m); });
    var done = desk.left.filter(function (m) { return desk.isHandled(m); });
    this.leftBox.hidden = !desk.left.length;
    this.leftCount.textContent = String(left.length);
    var items = left.map(function (m) {
      var mail = mailtoLink(m.email);
      return h('li', { class: 'left-item' }, [
        h('div', { class: 'qrow' }, [
          mail && m.email ? h('a', { href: mail, text: String(m.email) }) : h('span', { text: String(m.email || 'no email') }),
          h('span', { class: 'grow' }), h('span', { class: 'fine', text: [m.site, clock(m.at)].filter(Boolean).join(' \u00b7 ') })
        ]),
        h('div', { class: 'left-text', text: String(m.text || '') }),
        mailLine(h, desk.mail[m.conversation_id]),
        h('div', { class: 'qrow' }, [
          h('button', { type: 'button', class: 'handled', text: 'Mark handled', onclick: function () { desk.markHandled(m, true); } }),
          h('button', { type: 'button', class: 'linkish', text: 'Open conversation', onclick: function () { self.openLeft(m.conversation_id); } })
        ])
      ]);
    });
    if (done.length) items.push(h('li', { class: 'fine left-done-head', text: done.length + ' handled' }));
    done.slice(0, MAX_HANDLED_SHOWN).forEach(function (m) {
      var by = m.handled && m.handled.by ? 'Handled by ' + m.handled.by + ' \u00b7 ' + clock(m.handled.at) : 'Handled';
      items.push(h('li', { class: 'left-done' }, [
        h('div', { class: 'qrow' }, [
          h('span', { class: 'left-email', text: String(m.email || 'no email') }), h('span', { class: 'grow' }),
          h('button', { type: 'button', class: 'linkish', text: 'Not handled', onclick: function () { desk.markHandled(m, false); } })
        ]),
        h('div', { class: 'fine', text: by })
      ]));
    });
    this.leftList.replaceChildren.apply(this.leftList, items);
  };

  /** A left message's conversation: the chat itself when the agent has it, a preview while it
   *  waits, else its archived record (read-only). */
  View.prototype.openLeft = function (id) {
    var d = this.desk;
    if (d.chats[id] && !d.chats[id].ended) return d.activate(id);
    if (d.queue.some(function (it) { return it.conversation_id === id; })) return d.preview(id);
    this.showArchive(true);
    return this.openArchived(id);
  };

  /** n: the item's number in this list (the server's position counts within its own line). */
  View.prototype.queueItem = function (it, selected, n) {
    var h = this.h.bind(this);
    var self = this;
    var id = it.conversation_id;
    var last = lastMessageText(it.last_message);
    var taking = !!this.desk.accepting[id];
    var wait = h('span', { class: 'wait', title: 'Waiting since ' + (it.waiting_since || '?') });
    var el = h('div', { class: 'qitem' + (selected ? ' selected' : '') + (this.desk.unseen[id] ? ' fresh' : ''), role: 'option',
      id: 'q-' + id, 'data-id': id, 'aria-selected': selected ? 'true' : 'false' }, [
      h('div', { class: 'qrow' }, [h('span', { class: 'qnum', text: String(n) }), this.chip(it.reason), this.sentiment(it.sentiment), h('span', { class: 'grow' }), wait]),
      h('div', { class: 'qsummary', text: it.summary || 'No summary yet' }),
      last ? h('div', { class: 'qlast' }, [h('span', { class: 'q-from', text: (it.last_message && it.last_message.from) || 'visitor' }), ': ', last]) : null,
      h('div', { class: 'qrow qfoot' }, [
        h('span', { class: 'site', text: [it.site, it.team].filter(Boolean).join(' \u00b7 ') }),
        it.position ? h('span', { class: 'pos', text: '#' + it.position + ' in its line' }) : null,
        h('span', { class: 'grow' }),
        // A pointer's shortcut, not a control of its own (an option holds no buttons): from the
        // keyboard, Enter on the selected option takes it.
        h('span', { class: 'take primary' + (taking ? ' busy' : ''), 'aria-hidden': 'true', 'data-id': id,
          onclick: function (e) { e.stopPropagation(); if (!taking) self.desk.take(id); } }, [taking ? 'Taking\u2026' : 'Take', h('kbd', { text: 'Enter' })])
      ])
    ]);
    this.setWait(wait, it);
    return { el: el, wait: wait, item: it };
  };

  View.prototype.setWait = function (span, it) {
    var ms = since(it.waiting_since, this.now());
    span.textContent = formatWait(ms);
    span.className = 'wait ' + waitTone(ms);
  };

  /** Keyed: an item is rebuilt only when it changed, so the list keeps focus and scroll. */
  View.prototype.renderQueue = function () {
    var d = this.desk;
    var self = this;
    var els = {};
    var nodes = d.queue.map(function (it, i) {
      var id = it.conversation_id;
      var sig = i + JSON.stringify(it) + (d.selected === id) + !!d.accepting[id] + !!d.unseen[id];
      var old = self.queueEls[id];
      els[id] = old && old.sig === sig ? old : self.queueItem(it, d.selected === id, i + 1);
      els[id].sig = sig;
      return els[id].el;
    });
    this.queueEls = els;
    this.queueCount.textContent = String(nodes.length);
    // A listbox holds options only: the "no one is waiting" line stands beside it.
    this.queueList.hidden = !nodes.length;
    this.queueEmpty.hidden = !!nodes.length;
    var same = nodes.length === this.queueList.childNodes.length &&
      nodes.every(function (n, i) { return self.queueList.childNodes[i] === n; });
    if (!same) this.queueList.replaceChildren.apply(this.queueList, nodes);
    if (d.selected) this.queueList.setAttribute('aria-activedescendant', 'q-' + d.selected);
    else this.queueList.removeAttribute('aria-activedescendant');
    var sel = els[d.selected];
    if (sel && sel.el.scrollIntoView) sel.el.scrollIntoView({ block: 'nearest' });
  };

  View.prototype.queueClick = function (e) {
    for (var n = e.target; n && n !== this.queueList; n = n.parentNode) {
      var id = n.getAttribute && n.getAttribute('data-id');
      if (id && n.getAttribute('role') === 'option') {
        this.desk.preview(id);
        if (this.queueList.focus) this.queueList.focus();
        return;
      }
    }
  };

  View.prototype.tick = function () {
    for (var id in this.queueEls) this.setWait(this.queueEls[id].wait, this.queueEls[id].item);
    this.renderCountdown();
  };

  var ENDED = { handed_back: 'Handed back to the bot', resolved: 'Resolved', transferred: 'Transferred', gone: 'No longer yours' };

  View.prototype.renderTabs = function () {
    var d = this.desk;
    var h = this.h.bind(this);
    var self = this;
    var tabs = [];
    var done = [];
    d.order.forEach(function (id, i) {
      var c = d.chats[id];
      var last = lastVisible(c.events);
      var badge = c.unread ? h('span', { class: 'badge', 'aria-label': c.unread + ' unread', text: String(c.unread) }) : null;
      // A finished chat leaves "My chats" for "Resolved today", where it can still be read.
      (c.ended ? done : tabs).push(h('button', { type: 'button', role: c.ended ? null : 'tab', class: 'tab' + (id === d.active ? ' active' : '') + (c.ended ? ' ended' : ''),
        'aria-selected': c.ended ? null : id === d.active ? 'true' : 'false', 'aria-current': c.ended && id === d.active ? 'true' : null, 'data-id': id, title: i < 9 ? 'Alt+\u2191 / Alt+\u2193 to switch' : null,
        onclick: function () { d.activate(id); self.focusComposer(); } }, [
        h('span', { class: 'tab-row' }, [h('strong', { text: visitorLabel(c) }), badge, h('span', { class: 'grow' }),
          c.ended ? h('span', { class: 'tab-state', text: ENDED[c.ended] || c.ended }) : self.chip(c.reason)]),
        h('span', { class: 'tab-last', text: c.typing ? 'typing\u2026' : last ? (last.from === 'agent' ? 'You: ' : '') + last.text : '' })
      ]));
    });
    this.tabs.replaceChildren.apply(this.tabs, tabs);
    this.mineEmpty.hidden = tabs.length > 0;
    this.mineCount.textContent = String(tabs.length);
    this.doneList.replaceChildren.apply(this.doneList, done);
    this.doneBox.hidden = !done.length;
    this.doneCount.textContent = String(done.length);
  };

  function lastVisible(events) {
    for (var i = events.length - 1; i >= 0; i--) if (events[i].type === 'message') return events[i];
    return null;
  }
