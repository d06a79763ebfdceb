  // ---- console/context-view.js ---------------------------------------------------------
  // The context panel: why it came, summary, signals, suggestions, canned.

  /**
   * Signals worth a glance, in this order; any others follow with their raw names. Unknown
   * values (null) are left out, and so are the minor ones (4th field) while false or zero.
   */
  var SIGNALS = [
    ['sentiment', 'Sentiment', 'mood'], ['sentiment_trend', 'Mood trend', 'mood'],
    ['escalation_score', 'Escalation score', 'pct'], ['confidence', 'KB confidence', 'pct'],
    ['model_confidence', 'Model confidence', 'pct'], ['explicit_request', 'Typed a request for a person', 'bool'],
    ['repeated_question', 'Repeated question', 'bool'], ['repeat_similarity', 'Repeat similarity', 'pct', true],
    ['topic', 'Sensitive topic', 'topic'], ['bot_turns', 'Bot replies', 'num'], ['bot_errors', 'Bot errors', 'num', true],
    ['bot_declined', 'Bot said it could not help', 'bool', true], ['handoff_tool_called', 'Model asked to hand over', 'bool', true],
    ['language', 'Language', 'text']
  ];

  /** A signal value → {text, tone, bar (0-1) or null}. */
  function signalValue(kind, v) {
    if (v == null) return { text: '\u2014', tone: '', bar: null };
    if (kind === 'mood' && typeof v === 'number') {
      var s = sentimentInfo(v);
      return { text: s.label + ' (' + (v > 0 ? '+' : '') + v.toFixed(2) + ')', tone: 'mood-' + s.tone, bar: null };
    }
    if (kind === 'pct' && typeof v === 'number') return { text: Math.round(v * 100) + '%', tone: '', bar: Math.max(0, Math.min(1, v)) };
    if (typeof v === 'boolean') return { text: v ? 'yes' : 'no', tone: v ? 'flag' : '', bar: null };
    if (typeof v === 'object') return { text: String(v.name || v.topic || v.label || v.id || JSON.stringify(v)), tone: 'flag', bar: null };
    return { text: String(v), tone: '', bar: null };
  }

  View.prototype.renderContext = function (c) {
    var h = this.h.bind(this);
    var info = reasonInfo(c.reason);
    var sections = [
      h('section', { class: 'why' }, [h('h3', { text: 'Why it came to you' }), this.chip(c.reason), info.text ? h('p', { text: info.text }) : null,
        c.detail ? h('p', { class: 'detail', text: String(c.detail) }) : null]),
      h('section', { class: 'summary' }, [h('h3', { text: 'Summary' }), h('p', { text: c.summary || 'No summary yet.' })]),
      this.signalsSection(c),
      this.suggestionsSection(c),
      this.cannedSection(c)
    ];
    var v = c.visitor || {};
    var page = v.page || {};
    var rows = this.identityRows(v.identity);
    if (page.url) {
      var href = safeUrl(page.url);
      rows.push(h('dt', { text: 'Page' }), h('dd', {}, [href ? h('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: page.title || page.url }) : page.title || page.url]));
    }
    var lang = c.signals && c.signals.language;
    if (lang) rows.push(h('dt', { text: 'Writes in' }), h('dd', { text: String(lang) }));
    if (v.locale) rows.push(h('dt', { text: 'Browser' }), h('dd', { text: String(v.locale) }));
    var left = this.desk.left.filter(function (m) { return m.conversation_id === c.id && m.email; })[0];
    if (left) rows.push(h('dt', { text: 'Email left' }), h('dd', { text: String(left.email) }));
    if (c.site) rows.push(h('dt', { text: 'Site' }), h('dd', { text: String(c.site) }));
    rows.push(h('dt', { text: 'Chat' }), h('dd', { class: 'mono', text: c.id }));
    sections.push(h('section', { class: 'visitor' }, [h('h3', { text: 'Visitor' }), h('dl', {}, rows), this.previousList(c.previous)]));
    if (c.rating) sections.splice(1, 0, this.ratingSection(c.rating));
    this.contextBody.replaceChildren.apply(this.contextBody, sections);
  };

  /**
   * Who the site says the visitor is, with its mark: verified (the site's backend signed the
   * user id) or unverified (only what the page said: never to be trusted as proof).
   */
  View.prototype.identityRows = function (id) {
    var h = this.h.bind(this);
    if (!id) return [];
    var mark = id.verified
      ? h('span', { class: 'id-mark verified', title: 'The site signed this user id (identity_secret)', text: '\u2713 Verified' })
      : h('span', { class: 'id-mark unverified', title: 'Said by the page, not proven: do not rely on it', text: '! Unverified' });
    var rows = [h('dt', { text: 'Identity' }), h('dd', {}, [mark])];
    if (id.name) rows.push(h('dt', { text: 'Name' }), h('dd', { text: String(id.name) }));
    if (id.email) rows.push(h('dt', { text: 'Email' }), h('dd', { text: String(id.email) }));
    if (id.user_id) rows.push(h('dt', { text: 'User id' }), h('dd', { class: 'mono', text: String(id.user_id) }));
    return rows;
  };

  /** The same verified visitor's earlier conversations on this site (the view's `previous`). */
  View.prototype.previousList = function (list) {
    var h = this.h.bind(this);
    if (!list || !list.length) return null;
    var items = list.map(function (p) {
      var when = new Date(p.started_at);
      var day = isNaN(when) ? '' : when.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
      return h('li', {}, [h('span', { class: 'prev-when', text: day + ' \u00b7 ' + String(p.state || '') }),
        h('span', { class: 'prev-text', text: p.last_message ? String(p.last_message) : 'No message from the visitor' })]);
    });
    return h('div', { class: 'previous' }, [h('h4', { text: 'Previous conversations (' + list.length + ')' }), h('ul', {}, items)]);
  };

  var RATING_LABELS = ['Terrible', 'Bad', 'OK', 'Good', 'Great'];

  /** The visitor's rating, once given (usually after the chat was resolved). */
  View.prototype.ratingSection = function (r) {
    var h = this.h.bind(this);
    var score = Math.max(1, Math.min(5, Number(r.score) || 1));
    return h('section', { class: 'rating' }, [h('h3', { text: 'Visitor\u2019s rating' }),
      h('p', { class: 'score tone-' + (score >= 4 ? 'good' : score <= 2 ? 'bad' : 'ok') }, [
        h('strong', { text: score + ' / 5' }), ' ' + RATING_LABELS[score - 1] + (r.at ? ' \u00b7 ' + clock(r.at) : '')]),
      r.comment ? h('blockquote', { text: String(r.comment) }) : h('p', { class: 'fine', text: 'No comment.' })]);
  };

  View.prototype.signalsSection = function (c) {
    var h = this.h.bind(this);
    var signals = c.signals || {};
    var keys = SIGNALS.filter(function (s) { return signals[s[0]] != null && (!s[3] || signals[s[0]]); });
    var known = {};
    SIGNALS.forEach(function (s) { known[s[0]] = true; });
    Object.keys(signals).forEach(function (k) { if (!known[k] && signals[k] != null) keys.push([k, k.replace(/_/g, ' '), 'text']); });
    // The width goes through CSSOM: the server's CSP (default-src 'self') blocks style attributes.
    var fill = function (share) {
      var el = h('span', {});
      el.style.width = Math.round(share * 100) + '%';
      return el;
    };
    var rows = keys.map(function (s) {
      var val = signalValue(s[2], signals[s[0]]);
      return h('div', { class: 'sig', 'data-signal': s[0] }, [
        h('span', { class: 'sig-name', text: s[1] }),
        h('span', { class: 'sig-val ' + val.tone, text: val.text }),
        val.bar != null ? h('span', { class: 'bar', 'aria-hidden': 'true' }, [fill(val.bar)]) : null
      ]);
    });
    return h('section', { class: 'signals' }, [h('h3', { text: 'Signals' })].concat(rows.length ? rows : [h('p', { class: 'fine', text: 'No signal values.' })]));
  };

  View.prototype.suggestionsSection = function (c) {
    var h = this.h.bind(this);
    var self = this;
    var list = (c.suggestions || []).map(function (text, i) {
      return h('button', { type: 'button', class: 'suggestion', title: i < 9 ? 'Alt+' + (i + 1) + ': put in the composer' : null,
        onclick: function () { self.putInComposer(text, true); } }, [i < 9 ? h('kbd', { text: 'Alt ' + (i + 1) }) : null, h('span', { text: text })]);
    });
    return h('section', { class: 'suggestions' }, [h('h3', { text: 'Suggested replies' })].concat(list.length ? list : [h('p', { class: 'fine', text: 'None yet.' })]));
  };

  View.prototype.cannedSection = function (c) {
    var h = this.h.bind(this);
    var self = this;
    var list = h('div', { class: 'canned-list' });
    var filter = h('input', { class: 'canned-filter', type: 'search', placeholder: 'Search canned responses (Alt+C)', 'aria-label': 'Search canned responses',
      oninput: function () { fill(); },
      onkeydown: function (e) {
        if (e.key === 'Enter') {
          e.preventDefault();
          var first = list.querySelector('.canned');
          if (first) first.click();
        }
      } });
    this.cannedFilter = filter;
    function fill() {
      var q = String(filter.value || '').toLowerCase();
      var items = (c.canned || []).filter(function (r) {
        return !q || String(r.title || '').toLowerCase().indexOf(q) >= 0 || String(r.text || '').toLowerCase().indexOf(q) >= 0;
      }).map(function (r) {
        return h('button', { type: 'button', class: 'canned', title: r.text || '', onclick: function () { self.putInComposer(String(r.text || ''), false); } }, [
          h('strong', { text: r.title || 'Untitled' }), h('span', { text: r.text || '' })
        ]);
      });
      list.replaceChildren.apply(list, items.length ? items : [h('p', { class: 'fine', text: (c.canned || []).length ? 'No match.' : 'No canned responses for this site.' })]);
    }
    fill();
    return h('section', { class: 'canned-box' }, [h('h3', { text: 'Canned responses' }), filter, list]);
  };
