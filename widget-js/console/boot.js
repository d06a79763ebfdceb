  // ---- console/boot.js (closes the scope) ----------------------------------------------

  function sessionStore() {
    var s = null;
    try {
      s = root.sessionStorage;
      s.setItem('baton:probe', '1');
      s.removeItem('baton:probe');
    } catch (e) {
      s = null;
    }
    return new root.BatonProtocol.Store('baton:console:', s);
  }

  function boot() {
    var doc = root.document;
    var host = doc.getElementById('baton-console');
    var store = sessionStore();
    var alerts = new Alerts({
      Notification: root.Notification,
      AudioContext: root.AudioContext || root.webkitAudioContext,
      store: store,
      isHidden: function () { return doc.hidden || (doc.hasFocus && !doc.hasFocus()); }
    });
    var url = root.location.origin.replace(/^http/, 'ws') + '/v1/agent/ws';
    var desk = new Desk({ url: url, store: store, alerts: alerts });
    var view = new View(desk, { doc: doc, alerts: alerts }).mount(host);
    var seen = function () { desk.setVisible(!doc.hidden && (!doc.hasFocus || doc.hasFocus())); };
    doc.addEventListener('visibilitychange', seen);
    root.addEventListener('focus', seen);
    root.addEventListener('blur', seen);
    seen();
    desk.resume();
    root.BatonConsole.desk = desk;
    root.BatonConsole.view = view;
  }

  var exported = {
    REASONS: REASONS,
    reasonInfo: reasonInfo,
    formatWait: formatWait,
    waitTone: waitTone,
    sentimentInfo: sentimentInfo,
    sortQueue: sortQueue,
    mergeEvents: mergeEvents,
    visitorLabel: visitorLabel,
    titleWith: titleWith,
    keyAction: keyAction,
    safeUrl: safeUrl,
    signalValue: signalValue,
    softBreaks: softBreaks,
    endedBy: endedBy,
    reportQuery: reportQuery,
    reportCards: reportCards,
    deliveryRow: deliveryRow,
    keyRow: keyRow,
    keyRequest: keyRequest,
    Alerts: Alerts,
    Desk: Desk,
    View: View
  };
  root.BatonConsole = exported;
  if (typeof module === 'object' && module.exports) module.exports = exported;
  if (root.document && root.document.getElementById && root.document.getElementById('baton-console') && root.BatonProtocol) {
    if (root.document.readyState === 'loading') root.document.addEventListener('DOMContentLoaded', boot);
    else boot();
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
