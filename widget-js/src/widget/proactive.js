  // ---- widget/proactive.js -------------------------------------------------------------

  /** Whether `url` matches a trigger's `url` glob: the whole URL, `*` any run of characters. */
  function globMatch(glob, url) {
    return new RegExp('^' + String(glob).replace(/[^\w*]/g, '\\$&').replace(/\*/g, '.*') + '$').test(url);
  }

  /** Whether the caps of trigger `t` allow it now, given the times (ms) it was shown here. */
  function capAllows(t, times, now) {
    var recent = (times || []).filter(function (at) { return now - at < 30 * 864e5; });
    var last = Math.max.apply(null, [0].concat(recent));
    return recent.length < (t.max_per_visitor || 1) && now - last >= (t.min_interval_hours || 24) * 36e5;
  }

  /** Arms the site's proactive triggers whose page conditions hold (once per page): each fires
   *  after its `after_secs` on the page. The server has the last word on every one. */
  Widget.prototype.armProactive = function () {
    var self = this;
    var list = this.cfg.proactive;
    if (!Array.isArray(list) || this.armed) return;
    this.armed = true;
    var now = Date.now();
    var first = this.store.get('first_seen') || now;
    var visit = this.session.get('visit') || now;
    this.store.set('first_seen', first);
    this.session.set('visit', visit);
    var returning = first < visit;
    list.forEach(function (t) {
      if (!t || !t.id || (t.url && !globMatch(t.url, root.location.href)) || (t.returning && !returning)) return;
      if (!capAllows(t, (self.store.get('proactive') || {})[t.id], now)) return;
      setTimeout(function () { self.fireProactive(t); }, (t.after_secs || 0) * 1000);
    });
  };

  /** Asks the server for trigger `t`'s message, unless the visitor is already chatting. */
  Widget.prototype.fireProactive = function (t) {
    if (this.panelOpen || this.proactiveFor || (t.verified_only && !(this.identity && this.identity.user_hash))) return;
    var key = this.store.get('visitor') || root.BatonProtocol.uuid();
    this.store.set('visitor', key);
    this.proactiveFor = t;
    this.client.connect();
    this.client.send({ type: 'proactive', trigger: t.id, visitor_key: key });
  };

  /** The server's answer to `proactive`: its bot message opens the panel (without taking the
   *  focus from the page; on a phone, where the panel would cover the page, the launcher's
   *  preview shows it instead), and counts against the caps here; a refusal ends the attempt. */
  Widget.prototype.proactiveAnswer = function (f) {
    var t = this.proactiveFor;
    if (!t || (f.type === 'message' && (f.from !== 'bot' || !(f.seq > this.liveFrom)))) return;
    this.proactiveFor = null;
    if (f.type === 'message' || f.code === 'rate_limited') {
      var shown = this.store.get('proactive') || {};
      shown[t.id] = (shown[t.id] || []).concat(Date.now()).slice(-20);
      this.store.set('proactive', shown);
    }
    if (f.type === 'message' && !(root.matchMedia && root.matchMedia('(max-width:520px)').matches)) this.open(true);
  };
