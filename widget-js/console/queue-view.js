  // ---- console/queue-view.js -----------------------------------------------------------
  // The side column: the queue, my chats, messages left.

  /** A mailto: link for a plain address only: no `?`, `&` or `#` can add recipients or a body. */
  function mailtoLink(email) {
    var address = String(email || '').trim();
    if (!/^[A-Za-z0-9.!$'*+=^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(address)) return null;
    return 'mailto:' + address;
  }

  /** What visitors left when no one could take their chat: reply by email. */
  View.prototype.renderLeft = function () {
    var h = this.h.bind(this);
    var left = this.desk.left;
    this.leftBox.hidden = !left.length;
    this.leftCount.textContent = String(left.length);
    this.leftList.replaceChildren.apply(this.leftList, left.map(function (m) {
      var mail = mailtoLink(m.email);
      return h('li', { class: 'left-item' }, [
        h('div', { class: 'qrow' }, [
          mail && m.email ? h('a', { href: mail, text: String(m.email) }) : h('span', { text: String(m.email || 'no email') }),
          h('span', { class: 'grow' }), h('span', { class: 'fine', text: [m.site, clock(m.at)].filter(Boolean).join(' \u00b7 ') })
        ]),
        h('div', { class: 'left-text', text: String(m.text || '') })
      ]);
    }));
  };

  View.prototype.queueItem = function (it, selected) {
    var h = this.h.bind(this);
    var self = this;
    var id = it.conversation_id;
    var last = lastMessageText(it.last_message);
    var taking = !!this.desk.accepting[id];
    var wait = h('span', { class: 'wait', title: 'Waiting since ' + (it.waiting_since || '?') });
    var el = h('div', { class: 'qitem' + (selected ? ' selected' : '') + (this.desk.unseen[id] ? ' fresh' : ''), role: 'option',
      id: 'q-' + id, 'data-id': id, 'aria-selected': selected ? 'true' : 'false' }, [
      h('div', { class: 'qrow' }, [this.chip(it.reason), this.sentiment(it.sentiment), h('span', { class: 'grow' }), wait]),
      h('div', { class: 'qsummary', text: it.summary || 'No summary yet' }),
      last ? h('div', { class: 'qlast' }, [h('span', { class: 'q-from', text: (it.last_message && it.last_message.from) || 'visitor' }), ': ', last]) : null,
      h('div', { class: 'qrow qfoot' }, [
        h('span', { class: 'site', text: [it.site, it.team].filter(Boolean).join(' \u00b7 ') }),
        it.position ? h('span', { class: 'pos', title: 'Place in its line (site and team)', text: '#' + it.position }) : null,
        h('span', { class: 'grow' }),
        h('button', { type: 'button', class: 'take primary', tabindex: '-1', 'data-id': id, disabled: taking,
          onclick: function (e) { e.stopPropagation(); self.desk.take(id); } }, [taking ? 'Taking\u2026' : 'Take', h('kbd', { text: 'Enter' })])
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
    var nodes = d.queue.map(function (it) {
      var id = it.conversation_id;
      var sig = JSON.stringify(it) + (d.selected === id) + !!d.accepting[id] + !!d.unseen[id];
      var old = self.queueEls[id];
      els[id] = old && old.sig === sig ? old : self.queueItem(it, d.selected === id);
      els[id].sig = sig;
      return els[id].el;
    });
    this.queueEls = els;
    this.queueCount.textContent = String(nodes.length);
    if (!nodes.length) nodes = [this.queueEmpty];
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
        this.desk.select(id);
        if (this.queueList.focus) this.queueList.focus();
        return;
      }
    }
  };

  View.prototype.tick = function () {
    for (var id in this.queueEls) this.setWait(this.queueEls[id].wait, this.queueEls[id].item);
  };

  var ENDED = { handed_back: 'Handed back to the bot', resolved: 'Resolved', transferred: 'Transferred', gone: 'No longer yours' };

  View.prototype.renderTabs = function () {
    var d = this.desk;
    var h = this.h.bind(this);
    var self = this;
    var tabs = d.order.map(function (id, i) {
      var c = d.chats[id];
      var last = lastVisible(c.events);
      var badge = c.unread ? h('span', { class: 'badge', 'aria-label': c.unread + ' unread', text: String(c.unread) }) : null;
      return h('button', { type: 'button', role: 'tab', class: 'tab' + (id === d.active ? ' active' : '') + (c.ended ? ' ended' : ''),
        'aria-selected': id === d.active ? 'true' : 'false', 'data-id': id, title: i < 9 ? 'Alt+\u2191 / Alt+\u2193 to switch' : null,
        onclick: function () { d.activate(id); self.focusComposer(); } }, [
        h('span', { class: 'tab-row' }, [h('strong', { text: visitorLabel(c) }), badge, h('span', { class: 'grow' }),
          c.ended ? h('span', { class: 'tab-state', text: ENDED[c.ended] || c.ended }) : self.chip(c.reason)]),
        h('span', { class: 'tab-last', text: c.typing ? 'typing\u2026' : last ? (last.from === 'agent' ? 'You: ' : '') + last.text : '' })
      ]);
    });
    this.tabs.replaceChildren.apply(this.tabs, tabs);
    this.mineEmpty.hidden = tabs.length > 0;
    this.mineCount.textContent = String(tabs.length);
  };

  function lastVisible(events) {
    for (var i = events.length - 1; i >= 0; i--) if (events[i].type === 'message') return events[i];
    return null;
  }
