  // ---- console/alerts.js ---------------------------------------------------------------

  /**
   * Desktop notifications and a chime for new escalations. Off until the agent clicks
   * "Enable alerts" (remembered for the session). The chime works without notification
   * permission; a denied permission leaves the chime on and says so.
   * opts: Notification, AudioContext (constructors, or absent), store, isHidden().
   */
  function Alerts(opts) {
    this.N = opts.Notification || null;
    this.Audio = opts.AudioContext || null;
    this.store = opts.store;
    this.isHidden = opts.isHidden || function () { return false; };
    this.on = !!this.store.get('alerts');
    this.audio = null;
    this.shown = [];
  }

  /** 'off' | 'on' | 'sound-only' (notifications denied or unsupported) | 'ask' (pending). */
  Alerts.prototype.state = function () {
    if (!this.on) return 'off';
    var p = this.N ? this.N.permission : 'unsupported';
    if (p === 'granted') return 'on';
    return p === 'default' ? 'ask' : 'sound-only';
  };

  /** From a click: asks for permission (if needed), unlocks audio. Resolves to state(). */
  Alerts.prototype.enable = function () {
    var self = this;
    this.on = true;
    this.store.set('alerts', true);
    this.unlockAudio();
    var N = this.N;
    if (!N || N.permission !== 'default' || typeof N.requestPermission !== 'function') {
      return Promise.resolve(this.state());
    }
    return new Promise(function (resolve) {
      var done = function () { resolve(self.state()); };
      var p;
      try { p = N.requestPermission(done); } catch (e) { done(); return; }
      if (p && typeof p.then === 'function') p.then(done, done);
    });
  };

  Alerts.prototype.disable = function () {
    this.on = false;
    this.store.set('alerts', false);
  };

  Alerts.prototype.unlockAudio = function () {
    if (this.audio || !this.Audio) return;
    try {
      this.audio = new this.Audio();
      if (this.audio.state === 'suspended' && this.audio.resume) this.audio.resume();
    } catch (e) {
      this.audio = null;
    }
  };

  /** Two short rising tones, made in code (no audio file). */
  Alerts.prototype.chime = function () {
    var ctx = this.audio;
    if (!ctx) return false;
    try {
      var t = ctx.currentTime;
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(660, t);
      osc.frequency.setValueAtTime(990, t + 0.13);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.38);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.4);
      return true;
    } catch (e) {
      return false;
    }
  };

  /** A new escalation: chime, and a desktop notification while the page is not in view. */
  Alerts.prototype.announce = function (item, onClick) {
    if (!this.on) return;
    this.chime();
    if (!this.N || this.N.permission !== 'granted' || !this.isHidden()) return;
    var info = reasonInfo(item.reason);
    try {
      var n = new this.N('New chat: ' + info.label, {
        body: String(item.summary || lastMessageText(item.last_message) || item.site || ''),
        tag: 'baton-' + item.conversation_id
      });
      n.onclick = function () {
        if (root.focus) root.focus();
        if (onClick) onClick(item.conversation_id);
        if (n.close) n.close();
      };
      this.shown.push(n);
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  };
