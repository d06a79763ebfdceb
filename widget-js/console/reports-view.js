  // ---- console/reports-view.js ---------------------------------------------------------
  // The Reports page, for agents with the admin role: the numbers of GET /v1/agent/reports
  // (SQL over the archive, the admin's sites) for a date range, per site, team or agent, by
  // day or week; charts drawn as inline SVG (no library); the same report as a CSV download.

  /** The default range: the last 30 days, today included. */
  var REPORT_DAYS = 30;
  var SERIES_W = 640;
  var SERIES_H = 180;
  var BAR_H = 22;
  /** The widest a period's bar is drawn (a range of one week is one bar, not a wall). */
  var MAX_BAR_W = 48;
  var SERIES_PARTS = { bot: 'resolved by the bot', person: 'handed to a person', rest: 'other' };

  /** 'YYYY-MM-DD' of a Date, in local time (what a date input holds). */
  function isoDay(t) {
    return t.getFullYear() + '-' + pad(t.getMonth() + 1) + '-' + pad(t.getDate());
  }

  /** The endpoint's query for the form's values: whole local days, `to` included. */
  function reportQuery(values, format) {
    var parts = [];
    var from = new Date(String(values.from || '') + 'T00:00:00');
    var to = new Date(String(values.to || '') + 'T00:00:00');
    if (isNaN(from.getTime()) || isNaN(to.getTime())) return null;
    parts.push('from=' + encodeURIComponent(from.toISOString()));
    parts.push('to=' + encodeURIComponent(new Date(to.getTime() + 86400000).toISOString()));
    ['site', 'team', 'agent', 'period'].forEach(function (k) {
      var v = String(values[k] == null ? '' : values[k]).trim();
      if (v) parts.push(k + '=' + encodeURIComponent(v));
    });
    if (format) parts.push('format=' + format);
    return parts.join('&');
  }

  /** A share as "42%", a count of none as an en dash. */
  function percent(rate, of) {
    return of ? Math.round(rate * 1000) / 10 + '%' : '\u2013';
  }

  /** Seconds as "45s", "3m 05s", "1h 10m"; none as an en dash. */
  function secs(value) {
    return value == null ? '\u2013' : formatWait(value * 1000);
  }

  function mean(value) {
    return value == null ? '\u2013' : (Math.round(value * 100) / 100).toFixed(2);
  }

  function ratings(n) {
    return n + (n === 1 ? ' rating' : ' ratings');
  }

  /** The headline figures of a report: [label, value, detail]. Every figure the page shows. */
  function reportCards(f) {
    var left = f.left_messages;
    return [
      ['Conversations', String(f.conversations), ''],
      ['Bot resolution', percent(f.bot_resolution_rate, f.conversations), f.resolved_by_bot + ' resolved with no person'],
      ['Handoff rate', percent(f.handoff_rate, f.conversations), f.escalated + ' to a person'],
      ['First bot answer', secs(f.first_bot_answer_secs.p50), 'p90 ' + secs(f.first_bot_answer_secs.p90)],
      ['Wait for a person', secs(f.wait_for_agent_secs.p50), 'p90 ' + secs(f.wait_for_agent_secs.p90)],
      ['First response', secs(f.first_response_secs.p50), 'p90 ' + secs(f.first_response_secs.p90)],
      ['Handle time', secs(f.handle_secs.p50), 'p90 ' + secs(f.handle_secs.p90)],
      ['CSAT, bot only', mean(f.csat.bot), ratings(f.csat.bot_ratings)],
      ['CSAT, with a person', mean(f.csat.human), ratings(f.csat.human_ratings)],
      ['Left messages', String(left.count), left.answered + ' answered, p50 ' + secs(left.answer_secs.p50)],
      ['Offers of a person', String(f.offers.made), f.offers.taken + ' taken']
    ];
  }

  View.prototype.svg = function (tag, attrs, kids) {
    var el = this.doc.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    (kids || []).forEach(function (k) { if (k) el.appendChild(k); });
    return el;
  };

  View.prototype.svgText = function (attrs, text) {
    var t = this.svg('text', attrs);
    t.textContent = text;
    return t;
  };

  /** Conversations per day or week, each bar split: resolved by the bot, handed to a person, the rest. */
  View.prototype.seriesChart = function (series) {
    var self = this;
    var max = series.reduce(function (m, p) { return Math.max(m, p.conversations); }, 0) || 1;
    var step = SERIES_W / Math.max(series.length, 1);
    var width = Math.min(MAX_BAR_W, Math.max(2, step * 0.7));
    var bars = [];
    series.forEach(function (p, i) {
      var x = i * step + (step - width) / 2;
      var parts = [['bot', p.resolved_by_bot], ['person', p.escalated], ['rest', Math.max(0, p.conversations - p.resolved_by_bot - p.escalated)]];
      var y = SERIES_H;
      parts.forEach(function (part) {
        var h = part[1] / max * (SERIES_H - 10);
        if (h <= 0) return;
        y -= h;
        var rect = self.svg('rect', { x: x.toFixed(1), y: y.toFixed(1), width: width.toFixed(1), height: h.toFixed(1), class: 'bar-' + part[0] });
        var tip = self.svg('title');
        tip.textContent = p.start + ': ' + part[1] + ' ' + SERIES_PARTS[part[0]];
        rect.appendChild(tip);
        bars.push(rect);
      });
    });
    var axis = [this.svg('line', { x1: 0, y1: SERIES_H, x2: SERIES_W, y2: SERIES_H, class: 'axis' }),
      this.svgText({ x: 0, y: 10, class: 'tick' }, String(max))];
    if (series.length) axis.push(this.svgText({ x: 0, y: SERIES_H + 14, class: 'tick' }, series[0].start));
    if (series.length > 1) {
      axis.push(this.svgText({ x: SERIES_W, y: SERIES_H + 14, class: 'tick', 'text-anchor': 'end' }, series[series.length - 1].start));
    }
    return this.svg('svg', { viewBox: '0 0 ' + SERIES_W + ' ' + (SERIES_H + 18), class: 'chart chart-series', role: 'img',
      'aria-label': 'Conversations per period: resolved by the bot, handed to a person, other' }, axis.concat(bars));
  };

  /** Horizontal bars, one per [label, value]. */
  View.prototype.barChart = function (rows, label) {
    var self = this;
    var max = rows.reduce(function (m, r) { return Math.max(m, r[1]); }, 0) || 1;
    var kids = [];
    rows.forEach(function (r, i) {
      var y = i * BAR_H;
      kids.push(self.svgText({ x: 0, y: y + 15, class: 'tick' }, r[0]));
      kids.push(self.svg('rect', { x: 150, y: y + 4, width: (r[1] / max * 220).toFixed(1), height: BAR_H - 8, class: 'bar-person' }));
      kids.push(self.svgText({ x: 156 + r[1] / max * 220, y: y + 15, class: 'tick' }, String(r[1])));
    });
    return this.svg('svg', { viewBox: '0 0 420 ' + Math.max(BAR_H, rows.length * BAR_H), class: 'chart chart-bars', role: 'img', 'aria-label': label }, kids);
  };

  View.prototype.buildReports = function () {
    var h = this.h.bind(this);
    var self = this;
    var today = new Date(this.now());
    var start = new Date(today.getTime() - (REPORT_DAYS - 1) * 86400000);
    this.reportInputs = {
      from: h('input', { id: 'report-from', name: 'from', type: 'date', value: isoDay(start) }),
      to: h('input', { id: 'report-to', name: 'to', type: 'date', value: isoDay(today) }),
      site: h('input', { id: 'report-site', name: 'site', type: 'search', placeholder: 'all your sites', spellcheck: 'false' }),
      team: h('input', { id: 'report-team', name: 'team', type: 'search', placeholder: 'any', spellcheck: 'false' }),
      agent: h('input', { id: 'report-agent', name: 'agent', type: 'search', placeholder: 'any', spellcheck: 'false' }),
      period: h('select', { id: 'report-period', name: 'period' }, [h('option', { value: 'day', text: 'Day' }), h('option', { value: 'week', text: 'Week' })])
    };
    var labels = { from: 'From', to: 'To', site: 'Site', team: 'Team', agent: 'Agent id', period: 'By' };
    var fields = Object.keys(this.reportInputs).map(function (k) {
      return h('label', { class: 'afield' }, [h('span', { text: labels[k] }), self.reportInputs[k]]);
    });
    this.reportStatus = h('p', { class: 'archive-status', role: 'status', 'aria-live': 'polite' });
    this.reportBody = h('div', { class: 'report-body' });
    var csv = h('button', { type: 'button', class: 'report-csv', text: 'Download CSV', onclick: function () { self.downloadReport(); } });
    var form = h('form', { class: 'archive-form', 'aria-label': 'Report range', onsubmit: function (e) { e.preventDefault(); self.loadReport(); } },
      fields.concat([h('div', { class: 'afield afield-go' }, [h('button', { type: 'submit', class: 'primary', text: 'Show' })]),
        h('div', { class: 'afield afield-go' }, [csv])]));
    return h('section', { class: 'archive reports', hidden: true, 'aria-labelledby': 'reports-h' }, [
      h('div', { class: 'archive-top' }, [h('h2', { id: 'reports-h', text: 'Reports' }),
        h('span', { class: 'fine', text: 'Every figure counts conversations by the UTC day they started.' }), h('span', { class: 'grow' }),
        h('button', { type: 'button', text: 'Back to chats', onclick: function () { self.showReports(false); } })]),
      form,
      h('div', { class: 'report-scroll', tabindex: '0', role: 'group', 'aria-label': 'Report figures' }, [this.reportStatus, this.reportBody])
    ]);
  };

  View.prototype.showReports = function (open) {
    if (open && this.archiveShown) this.showArchive(false);
    if (open && this.webhooksShown) this.showWebhooks(false);
    if (open && this.keysShown) this.showKeys(false);
    this.reportsShown = !!open;
    this.reports.hidden = !open || !this.desk.signedIn;
    this.work.hidden = !!open || !this.desk.signedIn || !!this.archiveShown;
    this.reportsBtn.setAttribute('aria-pressed', open ? 'true' : 'false');
    if (open && !this.reportLoaded) this.loadReport();
  };

  View.prototype.reportValues = function () {
    var self = this;
    var values = {};
    Object.keys(this.reportInputs).forEach(function (k) { values[k] = self.reportInputs[k].value; });
    return values;
  };

  View.prototype.loadReport = function () {
    var self = this;
    var query = reportQuery(this.reportValues());
    this.reportLoaded = true;
    if (!query) {
      this.reportStatus.textContent = 'Pick a start and an end date.';
      return Promise.resolve();
    }
    this.reportStatus.textContent = 'Counting\u2026';
    return this.archiveFetch('/v1/agent/reports?' + query).then(function (report) {
      self.reportStatus.textContent = report.conversations ? '' : 'No conversation started in this range.';
      self.renderReport(report);
    }, function (error) {
      self.reportStatus.textContent = error.message;
      self.reportBody.replaceChildren();
    });
  };

  View.prototype.renderReport = function (r) {
    var h = this.h.bind(this);
    var cards = reportCards(r).map(function (c) {
      return h('div', { class: 'rcard' }, [h('span', { class: 'rlabel', text: c[0] }), h('strong', { class: 'rvalue', text: c[1] }),
        h('span', { class: 'fine', text: c[2] })]);
    });
    var reasons = Object.keys(r.handoffs_by_reason).map(function (k) { return [reasonInfo(k).label, r.handoffs_by_reason[k]]; });
    var legend = h('p', { class: 'legend' }, [h('span', { class: 'key key-bot', text: 'Resolved by the bot' }),
      h('span', { class: 'key key-person', text: 'Handed to a person' }), h('span', { class: 'key key-rest', text: 'Other' })]);
    this.reportBody.replaceChildren(
      h('div', { class: 'rcards', role: 'list', 'aria-label': 'Figures' }, cards.map(function (c) { c.setAttribute('role', 'listitem'); return c; })),
      h('div', { class: 'rcharts' }, [
        h('figure', { class: 'rchart' }, [h('figcaption', { text: 'Conversations by ' + (r.period === 'week' ? 'week' : 'day') }), this.seriesChart(r.series), legend]),
        h('figure', { class: 'rchart' }, [h('figcaption', { text: 'Handoffs by reason' }),
          reasons.length ? this.barChart(reasons, 'Handoffs by reason') : h('p', { class: 'fine', text: 'No handoff in this range.' })])
      ]),
      this.verdictTable(r.verdicts),
      this.breakdownTable('By team', r.by_team, 'Team'),
      this.breakdownTable('By agent', r.by_agent, 'Agent'));
  };

  /** The policy's precision and lateness per reason, from the agents' verdicts. */
  View.prototype.verdictTable = function (verdicts) {
    var h = this.h.bind(this);
    var rows = Object.keys(verdicts || {}).map(function (k) {
      var v = verdicts[k];
      return h('tr', {}, [h('th', { scope: 'row', text: reasonInfo(k).label }), h('td', { text: String(v.verdicts) }),
        h('td', { text: percent(v.precision, v.verdicts) }), h('td', { text: percent(v.lateness, v.verdicts) }),
        h('td', { text: String(v.bot_could_have_answered) })]);
    });
    return this.table('Agents\u2019 verdicts on handoffs', ['Reason', 'Verdicts', 'Precision', 'Late', 'Bot could have answered'], rows,
      'No verdict in this range.');
  };

  View.prototype.breakdownTable = function (title, items, what) {
    var h = this.h.bind(this);
    var rows = (items || []).map(function (b) {
      return h('tr', {}, [h('th', { scope: 'row', text: b.key || '(no team)' }), h('td', { text: String(b.conversations) }),
        h('td', { text: percent(b.handoff_rate, b.conversations) }), h('td', { text: secs(b.wait_for_agent_secs.p50) }),
        h('td', { text: secs(b.first_response_secs.p50) }), h('td', { text: secs(b.handle_secs.p50) }),
        h('td', { text: mean(b.csat.human) })]);
    });
    return this.table(title, [what, 'Conversations', 'Handoff rate', 'Wait p50', 'First response p50', 'Handle p50', 'CSAT'], rows,
      'Nothing to break down in this range.');
  };

  View.prototype.table = function (title, head, rows, empty) {
    var h = this.h.bind(this);
    var body = rows.length ? h('div', { class: 'rtable-wrap' }, [h('table', { class: 'rtable' }, [
      h('thead', {}, [h('tr', {}, head.map(function (c) { return h('th', { scope: 'col', text: c }); }))]),
      h('tbody', {}, rows)])]) : h('p', { class: 'fine', text: empty });
    return h('section', { class: 'rsection' }, [h('h3', { text: title }), body]);
  };

  /** The same report as CSV, fetched with the token and saved through a temporary link. */
  View.prototype.downloadReport = function () {
    var self = this;
    var query = reportQuery(this.reportValues(), 'csv');
    if (!query) return Promise.resolve();
    var token = this.desk.store.get('token') || '';
    return root.fetch('/v1/agent/reports?' + query, { headers: { Authorization: 'Bearer ' + token } }).then(function (res) {
      if (!res.ok) throw new Error('The reports answered ' + res.status);
      return res.blob();
    }).then(function (blob) {
      var url = root.URL.createObjectURL(blob);
      var values = self.reportValues();
      var link = self.h('a', { href: url, download: 'baton-report-' + values.from + '-' + values.to + '.csv' });
      self.doc.body.appendChild(link);
      link.click();
      link.remove();
      root.setTimeout(function () { root.URL.revokeObjectURL(url); }, 1000);
    }).catch(function (error) { self.reportStatus.textContent = error.message; });
  };
