  // ---- console/shortcuts.js ------------------------------------------------------------
  // The keyboard: the key map, the shortcut sheet, running an action.

  /**
   * A keydown → an action name, or null. ctx: composer (focus in the reply box), typing
   * (focus in another field), queue (focus on the queue), help (the shortcut sheet is open).
   * Alt shortcuts use e.code, so they work on layouts where Alt+letter types a symbol.
   */
  var ALT_KEYS = {
    KeyN: 'note', KeyR: 'resolve', KeyB: 'handback', KeyT: 'transfer', KeyQ: 'queue',
    KeyW: 'close', KeyC: 'canned', KeyI: 'details', ArrowDown: 'next-chat', ArrowUp: 'prev-chat'
  };

  function keyAction(e, ctx) {
    ctx = ctx || {};
    var mod = e.ctrlKey || e.metaKey;
    if (e.isComposing) return null;
    if (e.altKey && !mod) {
      var digit = /^Digit([1-9])$/.exec(e.code || '');
      if (digit) return 'suggest:' + digit[1];
      return ALT_KEYS[e.code] || null;
    }
    if (e.key === 'Escape' && ctx.help) return 'help';
    if (e.key === 'Escape' && ctx.drawer) return 'details';
    if (ctx.composer) {
      if (e.key === 'Enter' && (mod || !e.shiftKey)) return 'send';
      return e.key === 'Escape' ? 'queue' : null;
    }
    if (ctx.typing) return e.key === 'Escape' ? 'queue' : null;
    if (mod) return null;
    if (e.key === 'j' || (ctx.queue && e.key === 'ArrowDown')) return 'queue-next';
    if (e.key === 'k' || (ctx.queue && e.key === 'ArrowUp')) return 'queue-prev';
    if (ctx.queue && e.key === 'Enter') return 'take';
    if (e.key === 'r') return 'reply';
    if (e.key === '?') return 'help';
    return null;
  }

  var SHORTCUTS = [
    ['j / k', 'Move in the queue'], ['Enter', 'Take the selected chat (queue focused)'],
    ['r', 'Reply: focus the composer'], ['Enter, Ctrl+Enter', 'Send'], ['Shift+Enter', 'New line'],
    ['Alt+N', 'Reply / internal note'], ['Alt+1 \u2026 9', 'Put suggested reply 1 \u2026 9 in the composer'],
    ['Alt+C', 'Search canned responses'], ['Alt+I', 'Details: why, summary, signals, visitor'], ['Alt+\u2191 / Alt+\u2193', 'Previous / next of my chats'],
    ['Alt+T', 'Transfer'], ['Alt+B', 'Hand back to the bot'], ['Alt+R', 'Resolve'],
    ['Alt+W', 'Close an ended chat'], ['Alt+Q, Esc', 'Back to the queue'], ['?', 'This sheet']
  ];

  View.prototype.buildHelp = function () {
    var h = this.h.bind(this);
    var self = this;
    return h('div', { class: 'help', role: 'dialog', 'aria-label': 'Keyboard shortcuts', hidden: true }, [
      h('div', { class: 'help-card' }, [
        h('h2', { text: 'Keyboard shortcuts' }),
        h('dl', {}, SHORTCUTS.reduce(function (out, s) {
          return out.concat([h('dt', {}, [h('kbd', { text: s[0] })]), h('dd', { text: s[1] })]);
        }, [])),
        h('button', { type: 'button', class: 'primary', text: 'Close', onclick: function () { self.toggleHelp(); } })
      ])
    ]);
  };

  View.prototype.key = function (e) {
    var t = e.target;
    var tag = t && t.tagName;
    var ctx = {
      composer: t === this.input,
      typing: tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || !!(t && t.isContentEditable),
      queue: t === this.queueList,
      help: !this.help.hidden,
      drawer: !!this.drawerOpen && this.narrow()
    };
    if (!this.desk.signedIn) return;
    var action = keyAction(e, ctx);
    if (!action) return;
    e.preventDefault();
    this.run(action);
  };

  View.prototype.run = function (action) {
    var d = this.desk;
    var id = d.active;
    var digit = /^suggest:(\d)$/.exec(action);
    if (digit) {
      var c = d.chats[id];
      var text = c && c.suggestions[Number(digit[1]) - 1];
      if (text) this.putInComposer(text, true);
      return;
    }
    switch (action) {
      case 'queue-next': d.move(1); return this.focusQueue();
      case 'queue-prev': d.move(-1); return this.focusQueue();
      case 'take': d.take(); return;
      case 'queue': return this.focusQueue();
      case 'reply': return this.focusComposer();
      case 'send': return this.submit();
      case 'note': return this.setMode(d.chats[id] && d.chats[id].mode === 'note' ? 'reply' : 'note');
      case 'handback': d.handback(id); return;
      case 'resolve': d.resolve(id); return;
      case 'transfer': return this.openTransfer();
      case 'close': if (d.chats[id] && d.chats[id].ended) d.close(id); return;
      case 'next-chat': d.cycle(1); return this.focusComposer();
      case 'prev-chat': d.cycle(-1); return this.focusComposer();
      case 'canned':
        // On a narrow screen the canned responses are in the drawer: open it first.
        if (this.narrow()) this.drawer(true);
        if (this.cannedFilter && this.cannedFilter.focus) this.cannedFilter.focus();
        return;
      case 'details': return this.drawer(!this.drawerOpen);
      case 'help': return this.toggleHelp();
    }
  };

  View.prototype.focusQueue = function () {
    if (this.queueList.focus) this.queueList.focus();
  };

  View.prototype.toggleHelp = function () {
    this.help.hidden = !this.help.hidden;
  };
