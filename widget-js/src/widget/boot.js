  // ---- widget/boot.js (closes the scope) -----------------------------------------------

  /** Page API: Baton('open'), Baton('on', 'message', fn), ... */
  Widget.prototype.command = function (name, arg, fn) {
    if (!this.panel && (name === 'open' || name === 'close' || name === 'toggle')) {
      this.openAtMount = name === 'toggle' ? !this.openAtMount : name === 'open';
    } else if (name === 'open') this.open();
    else if (name === 'close') this.close();
    else if (name === 'toggle') this.panelOpen ? this.close() : this.open();
    else if (name === 'identify' && arg && typeof arg === 'object') {
      var who = {};
      for (var k in arg) if (arg[k] != null) who[k] = String(arg[k]).slice(0, 200);
      this.identity = who;
      this.client.send({ type: 'identify', visitor: who }, true);
    } else if (name === 'on' && typeof fn === 'function') {
      (this.hooks[arg] = this.hooks[arg] || []).push(fn);
    }
  };

  function findScript() {
    var doc = root.document;
    if (doc.currentScript && doc.currentScript.getAttribute('data-site')) return doc.currentScript;
    var all = doc.querySelectorAll('script[data-site][src]');
    for (var i = 0; i < all.length; i++) if (/widget(\.min)?\.js(\?|#|$)/.test(all[i].src)) return all[i];
    return null;
  }

  function boot() {
    if (root.Baton && root.Baton.loaded) return;
    var script = findScript();
    var site = script && script.getAttribute('data-site');
    if (!site) {
      if (root.console) root.console.warn('Baton: add data-site="…" to the widget <script> tag');
      return;
    }
    var data = {};
    ['color', 'position', 'greeting', 'title', 'locale', 'resume'].forEach(function (k) {
      var v = script.getAttribute('data-' + k);
      if (v) data[k] = v;
    });
    var queued = (root.Baton && root.Baton.q) || [];
    var widget = null;
    var api = function () {
      if (widget) return widget.command.apply(widget, arguments);
      queued.push(arguments);
    };
    api.loaded = true;
    root.Baton = api;
    var start = function () {
      widget = new Widget({ site: site, origin: new URL(script.src, root.location.href).origin, data: data });
      // Commands queued before load run before mount, so identify() reaches the first hello.
      queued.splice(0).forEach(function (args) { widget.command.apply(widget, args); });
      widget.mount();
    };
    if (root.document.body) start();
    else root.document.addEventListener('DOMContentLoaded', start);
  }

  var exported = {
    renderMarkdown: renderMarkdown,
    parseMarkdown: parseMarkdown,
    parseInline: parseInline,
    safeUrl: safeUrl,
    safeColor: safeColor,
    onColor: onColor,
    pickLocale: pickLocale,
    translator: translator,
    saysUnavailable: saysUnavailable,
    STRINGS: STRINGS,
    RTL: RTL,
    KEYS: KEYS,
    FRAMES: FRAMES,
    Widget: Widget
  };
  root.BatonWidget = exported;
  if (typeof module === 'object' && module.exports) module.exports = exported;
  if (root.document && root.location && root.BatonProtocol) boot();
})(typeof globalThis !== 'undefined' ? globalThis : this);
