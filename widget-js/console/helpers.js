/*
 * Baton agent console, served at /console/ (index.html, console.css) with /console/console.js
 * = src/protocol.js + src/render.js + the files of console/, joined by "\n" in the order of
 * ../bundles.json: a classic script, no build step. It speaks the agent socket of
 * docs/protocol.md through the protocol client it shares with the widget.
 *
 * # Layout
 * The console's files are one function scope: this file opens it, boot.js closes it.
 * - helpers.js: constants, labels, formatting, queue order, transcript merge. Pure, exported
 *   for the unit tests.
 * - alerts.js: the desktop notification and chime for a new escalation, only once the agent
 *   has turned them on (a click: browsers allow permission prompts and audio only then).
 * - desk.js, frames.js: the Desk, the model. Owns the protocol client, the queue, the agent's
 *   chats and what is pending; driven by frames through a table of handlers (frames.js);
 *   knows nothing of the DOM.
 * - view.js, queue-view.js, chat-view.js, context-view.js: the View. Builds the page once and
 *   updates its parts from the desk. Network text goes in as text nodes only (the shared
 *   renderer builds whitelisted elements and safe links). archive-view.js: the archive page
 *   (search over HTTP with the agent's token, a read-only transcript).
 * - shortcuts.js: the key map, the shortcut sheet, running an action.
 * - boot.js: runs when the page has #baton-console.
 */
(function (root) {
  'use strict';

  // ---- console/helpers.js --------------------------------------------------------------

  var TITLE = 'Baton console';
  /** After this long without a keystroke the agent's typing indicator turns off. */
  var TYPING_IDLE_MS = 3000;
  /** Waiting times are redrawn this often. */
  var TICK_MS = 1000;
  /** Waits longer than these turn the queue timer amber, then red. */
  var WAIT_WARN_S = 120;
  var WAIT_LATE_S = 300;
  /** How long a notice (toast) stays up. */
  var NOTICE_MS = 6000;
  /** Agents' messages follow the visitors' limit. */
  var MAX_TEXT = 4000;

  /** Escalation reasons: a short label for the chip, a tone (colour) and one sentence. */
  var REASONS = {
    explicit_request: ['Asked for a person', 'blue', 'The visitor asked to talk to a person.'],
    negative_sentiment: ['Upset visitor', 'red', 'The visitor\u2019s messages turned negative.'],
    low_confidence: ['Bot unsure', 'amber', 'The knowledge base did not cover the question well.'],
    repeated_question: ['Asked again', 'orange', 'The visitor repeated a question the bot had answered.'],
    topic: ['Sensitive topic', 'purple', 'The conversation touched a topic that needs a person.'],
    bot_error: ['Bot error', 'red', 'The bot failed to answer.'],
    max_turns: ['Long chat', 'slate', 'The conversation went on for many turns with the bot.'],
    model_handoff: ['Bot handed over', 'amber', 'The AI model asked for a person to take over.'],
    transfer: ['Transferred', 'teal', 'Another agent transferred this chat.']
  };

  function reasonInfo(reason) {
    var r = REASONS[reason];
    if (r) return { label: r[0], tone: r[1], text: r[2] };
    var label = reason ? String(reason).replace(/_/g, ' ') : 'No reason given';
    return { label: label.charAt(0).toUpperCase() + label.slice(1), tone: 'slate', text: '' };
  }

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** Elapsed milliseconds → "45s", "3m 05s", "1h 02m". */
  function formatWait(ms) {
    var s = Math.max(0, Math.floor((ms || 0) / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + pad(m % 60) + 'm';
  }

  /** '' | 'warn' | 'late', for the wait timer's colour. */
  function waitTone(ms) {
    var s = (ms || 0) / 1000;
    return s >= WAIT_LATE_S ? 'late' : s >= WAIT_WARN_S ? 'warn' : '';
  }

  function since(at, now) {
    var t = Date.parse(at);
    return isNaN(t) ? 0 : Math.max(0, now - t);
  }

  /** Sentiment (a number in [-1, 1], or a label) → {label, tone}; null when unknown. */
  function sentimentInfo(value) {
    if (value == null || value === '') return null;
    if (typeof value === 'string') {
      var tone = /neg|angry|upset|frustrat/i.test(value) ? 'neg' : /pos|happy/i.test(value) ? 'pos' : 'neu';
      return { label: value.replace(/_/g, ' '), tone: tone };
    }
    if (typeof value !== 'number' || isNaN(value)) return null;
    if (value <= -0.5) return { label: 'very negative', tone: 'neg' };
    if (value < -0.15) return { label: 'negative', tone: 'neg' };
    if (value <= 0.15) return { label: 'neutral', tone: 'neu' };
    return { label: 'positive', tone: 'pos' };
  }

  /**
   * Queue order, the server's: chats given back by an agent first (`returned`), then higher
   * priority, then the longest wait. `position` is not used: it counts within one line (site
   * and team), so two chats of different lines can both be first.
   */
  function sortQueue(items) {
    return (items || []).slice().sort(function (a, b) {
      if (!!a.returned !== !!b.returned) return a.returned ? -1 : 1;
      var qa = typeof a.priority === 'number' ? a.priority : 0;
      var qb = typeof b.priority === 'number' ? b.priority : 0;
      if (qa !== qb) return qb - qa;
      return (Date.parse(a.waiting_since) || 0) - (Date.parse(b.waiting_since) || 0);
    });
  }

  /** Events of one conversation, once each by seq, in order. */
  function mergeEvents(list, incoming) {
    var seen = {};
    var out = [];
    (list || []).concat(incoming || []).forEach(function (e) {
      if (!e || typeof e.seq !== 'number' || seen[e.seq]) return;
      seen[e.seq] = true;
      out.push(e);
    });
    return out.sort(function (a, b) { return a.seq - b.seq; });
  }

  /** A queue item's last message: a string, or {from, text}. */
  function lastMessageText(m) {
    if (m == null) return '';
    if (typeof m === 'string') return m;
    return m.text || '';
  }

  function visitorLabel(view) {
    var v = (view && view.visitor) || {};
    var who = v.identity || v;
    // A name the site did not vouch for is said to be so wherever it is shown.
    var mark = v.identity && !v.identity.verified ? ' (unverified)' : '';
    if (who.name) return String(who.name) + mark;
    if (who.email) return String(who.email) + mark;
    var id = String((view && (view.conversation_id || view.id)) || '');
    return 'Visitor ' + id.replace(/[^0-9a-z]/gi, '').slice(0, 4).toUpperCase();
  }

  /** The document title with the unread count in front: "(3) Baton console". */
  function titleWith(count, base) {
    base = base || TITLE;
    return count > 0 ? '(' + count + ') ' + base : base;
  }

  /** A time → "14:05" in local time; '' if it does not parse. */
  function clock(at) {
    var t = new Date(at);
    return isNaN(t.getTime()) ? '' : pad(t.getHours()) + ':' + pad(t.getMinutes());
  }

  /** The safe Markdown subset and the DOM builder, shared with the widget (render.js). */
  var R = root.BatonRender;
  var safeUrl = R.safeUrl;
