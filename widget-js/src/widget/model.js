  // ---- widget/model.js -----------------------------------------------------------------

  function Widget(opts) {
    var P = root.BatonProtocol;
    this.site = opts.site;
    this.origin = opts.origin;
    this.data = opts.data || {};
    this.cfg = {};
    this.hooks = {};
    this.identity = null;
    this.state = 'bot';
    this.agent = null;
    this.streams = {};
    this.bubbles = {};
    this.liveFrom = Infinity;
    this.unread = 0;
    this.typingOut = null;
    this.store = new P.Store('baton:' + this.site + ':');
    var session = null;
    try { session = root.sessionStorage; session.getItem('baton:probe'); } catch (e) { session = null; }
    this.session = new P.Store('baton:' + this.site + ':', session);
    this.readSeq = this.store.get('read') || 0;
    this.restoreHold(this.store.get('conversation'));
    if (this.data.resume && this.store.get('token') !== this.data.resume) {
      this.store.set('token', this.data.resume);
      this.store.remove('conversation');
      this.openAtMount = true;
    }
    this.setLocale();
    var self = this;
    this.client = new P.Client({
      url: this.origin.replace(/^http/, 'ws') + '/v1/visitor/ws?site=' + encodeURIComponent(this.site),
      store: this.store,
      helloExtra: function () {
        return {
          locale: self.locale,
          page: { url: root.location.href, title: root.document.title },
          visitor: self.identity
        };
      }
    });
    this.wire();
  }

  Widget.prototype.setLocale = function () {
    var nav = root.navigator || {};
    var candidates = [this.data.locale].concat(nav.languages || [], nav.language, this.cfg.locale);
    this.locale = pickLocale(candidates.filter(Boolean));
    this.t = translator(this.locale);
  };

  /** Appearance: built-in defaults < site configuration < data- attributes. */
  Widget.prototype.look = function (key) {
    var d = this.data[key];
    if (d) return d;
    var c = this.cfg[key];
    if (c) return c;
    return { title: this.t('title'), bot_name: this.t('bot'), ai_notice: this.t('ai') }[key] || '';
  };

  Widget.prototype.emitHook = function (name, data) {
    (this.hooks[name] || []).forEach(function (fn) {
      try { fn(data); } catch (e) { if (root.console) root.console.error(e); }
    });
  };

  Widget.prototype.fetchConfig = function () {
    var self = this;
    if (typeof root.fetch !== 'function') return;
    root.fetch(this.origin + '/v1/sites/' + encodeURIComponent(this.site) + '/widget', { credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (cfg) {
        if (!cfg || typeof cfg !== 'object') return;
        self.cfg = cfg;
        self.setLocale();
        self.paint();
        self.armProactive();
      })
      .catch(function () { /* built-in defaults stay */ });
  };

  Widget.prototype.seen = function (f) {
    if (f.from !== 'visitor' && (f.type === 'message' || f.type === 'attachment')) {
      if (this.panelOpen) this.markRead();
      else if (f.seq > this.readSeq) this.setUnread(this.unread + 1);
    } else if (this.panelOpen) {
      this.markRead();
    }
  };

  Widget.prototype.setState = function (f) {
    if (!f.state) return;
    this.state = f.state;
    // A person or the bot has the chat now: the leave-a-message form has served its purpose.
    if (f.state !== 'queued') this.dropLeave();
    this.header();
    this.emitHook('state', { state: f.state, agent: this.agent });
  };

  /**
   * Who has the chat (`state agent`) and whether they joined: the server's `agent_joined`
   * notice (or their first words) says so; being given the chat does not. Kept in the tab's
   * session with its conversation, so a resumed page that replays nothing reads the same.
   */
  Widget.prototype.hold = function (agent, joined) {
    this.agent = agent || null;
    this.joined = !!(agent && joined);
    this.session.set('agent', { c: this.store.get('conversation'), agent: this.agent, joined: this.joined });
    this.header();
  };

  Widget.prototype.restoreHold = function (conversationId) {
    var held = this.session.get('agent');
    var ours = !!(held && conversationId && held.c === conversationId);
    this.agent = ours ? held.agent : null;
    this.joined = !!(ours && held.joined);
  };

  Widget.prototype.forgetConversation = function () {
    this.streams = {};
    this.state = 'bot';
    this.welcomeState = null;
    this.session.remove('agent');
    this.agent = null;
    this.joined = false;
    this.readSeq = 0;
    this.store.set('read', 0);
    this.setUnread(0);
    this.header();
  };
