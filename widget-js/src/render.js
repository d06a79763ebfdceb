// The safe Markdown subset and DOM builder shared by the widget and the console.
(function (root) {
  'use strict';

  // ---- safe Markdown ------------------------------------------------------------------

  /** Only these URL schemes become links; everything else stays text. */
  function safeUrl(url) {
    var parsed;
    try { parsed = new URL(String(url).trim()); } catch (e) { return null; }
    return /^(https?|mailto):$/.test(parsed.protocol) ? parsed.href : null;
  }

  var INLINE = new RegExp([
    '`([^`\\n]+)`',                                   // 1 code
    '\\*\\*([^*\\n]+?)\\*\\*|__([^_\\n]+?)__',             // 2, 3 strong
    '\\*([^*\\s](?:[^*\\n]*[^*\\s])?)\\*',                 // 4 em
    '_([^_\\s](?:[^_\\n]*[^_\\s])?)_',                     // 5 em
    '\\[([^\\]\\n]+)\\]\\(\\s*<?([^()\\s<>]+)>?\\s*\\)', // 6, 7 link
    '((?:https?://|mailto:)[^\\s<>()]*[^\\s<>().,:;!?\'"\\]*_])' // 8 bare URL
  ].join('|'), 'g');

  /** Inline Markdown → [string | {t, c | text, href}]. */
  function parseInline(text, inLink) {
    var out = [];
    var last = 0;
    var re = new RegExp(INLINE.source, 'g');
    var m;
    while ((m = re.exec(text))) {
      if (m[5] != null && (/\w/.test(text.charAt(m.index - 1)) || /\w/.test(text.charAt(re.lastIndex)))) {
        re.lastIndex = m.index + 1; // snake_case_word: not emphasis
        continue;
      }
      var node;
      if (m[1] != null) node = { t: 'code', text: m[1] };
      else if (m[2] != null || m[3] != null) node = { t: 'strong', c: parseInline(m[2] || m[3], inLink) };
      else if (m[4] != null || m[5] != null) node = { t: 'em', c: parseInline(m[4] || m[5], inLink) };
      else if (m[6] != null) {
        var href = inLink ? null : safeUrl(m[7]);
        node = href ? { t: 'a', href: href, c: parseInline(m[6], true) } : m[0];
      } else {
        var bare = inLink ? null : safeUrl(m[8]);
        node = bare ? { t: 'a', href: bare, c: [m[8]] } : m[8];
      }
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(node);
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  /**
   * Block Markdown → [{t: 'p'|'ul'|'ol'|'pre', ...}]: paragraphs, lists, fences, headings.
   * A single newline is a space (Markdown's soft break), or a line break with `breaks`.
   */
  function parseMarkdown(src, breaks) {
    var lines = String(src == null ? '' : src).replace(/\r\n?/g, '\n').split('\n');
    var blocks = [];
    var para = null;
    var list = null;
    var fence = null;
    lines.forEach(function (line) {
      if (fence) {
        if (/^\s*```/.test(line)) fence = null;
        else fence.text += (fence.text ? '\n' : '') + line;
        return;
      }
      if (/^\s*```/.test(line)) {
        para = list = null;
        blocks.push(fence = { t: 'pre', text: '' });
        return;
      }
      if (!line.trim()) {
        para = list = null;
        return;
      }
      var item = /^\s*(?:[-*+]|(\d{1,9})[.)])\s+(.*)$/.exec(line);
      if (item) {
        var kind = item[1] ? 'ol' : 'ul';
        if (!list || list.t !== kind) {
          blocks.push(list = { t: kind, items: [] });
          if (item[1]) list.start = parseInt(item[1], 10);
        }
        list.items.push(parseInline(item[2]));
        para = null;
        return;
      }
      if (list && /^\s{2,}\S/.test(line)) {
        var tail = list.items[list.items.length - 1];
        tail.push(' ');
        tail.push.apply(tail, parseInline(line.trim()));
        return;
      }
      var heading = /^\s*#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        blocks.push({ t: 'p', c: [{ t: 'strong', c: parseInline(heading[1]) }] });
        para = list = null;
        return;
      }
      list = null;
      if (para) para.c.push(breaks ? { t: 'br' } : ' ');
      else blocks.push(para = { t: 'p', c: [] });
      para.c.push.apply(para.c, parseInline(line));
    });
    return blocks;
  }

  /** Tag names come from this table only, never from the input. */
  var TAGS = { p: 'p', ul: 'ul', ol: 'ol', li: 'li', pre: 'pre', code: 'code', strong: 'strong', em: 'em', a: 'a', br: 'br' };

  function buildInline(nodes, parent, doc) {
    nodes.forEach(function (n) {
      if (typeof n === 'string') {
        parent.appendChild(doc.createTextNode(n));
        return;
      }
      var el = doc.createElement(TAGS[n.t]);
      if (n.text != null) el.textContent = n.text;
      if (n.t === 'a') {
        el.setAttribute('href', n.href);
        el.setAttribute('target', '_blank');
        el.setAttribute('rel', 'noopener noreferrer nofollow');
      }
      if (n.c) buildInline(n.c, el, doc);
      parent.appendChild(el);
    });
  }

  /** Markdown text → DocumentFragment, built with createElement and text nodes only. */
  function renderMarkdown(text, doc, breaks) {
    var frag = doc.createDocumentFragment();
    parseMarkdown(text, breaks).forEach(function (b) {
      var el = doc.createElement(TAGS[b.t]);
      if (b.t === 'pre') {
        var code = doc.createElement('code');
        code.textContent = b.text;
        el.appendChild(code);
      } else if (b.items) {
        if (b.start > 1) el.setAttribute('start', String(b.start));
        b.items.forEach(function (inl) {
          var li = doc.createElement('li');
          buildInline(inl, li, doc);
          el.appendChild(li);
        });
      } else {
        buildInline(b.c, el, doc);
      }
      frag.appendChild(el);
    });
    return frag;
  }

  // ---- DOM ----------------------------------------------------------------------------

  /** element(doc, 'button', {class: 'x', text: 'Send', onclick: fn}, [children]): no HTML parsing. */
  function element(doc, tag, props, kids) {
    var el = doc.createElement(tag);
    for (var k in props) {
      var v = props[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) {
      if (c != null && c !== false) el.appendChild(typeof c === 'string' ? doc.createTextNode(c) : c);
    });
    return el;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';

  /** A size-by-size line icon from one SVG path (`filled`: a solid shape instead). */
  function icon(doc, d, size, filled) {
    var svg = doc.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', String(size));
    svg.setAttribute('height', String(size));
    svg.setAttribute('aria-hidden', 'true');
    var path = doc.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', filled ? 'currentColor' : 'none');
    path.setAttribute('stroke', filled ? 'none' : 'currentColor');
    path.setAttribute('stroke-width', '2.2');
    path.setAttribute('stroke-linecap', 'round');
    path.setAttribute('stroke-linejoin', 'round');
    svg.appendChild(path);
    return svg;
  }

  var exported = {
    icon: icon,
    safeUrl: safeUrl,
    parseInline: parseInline,
    parseMarkdown: parseMarkdown,
    renderMarkdown: renderMarkdown,
    element: element
  };
  root.BatonRender = exported;
  if (typeof module === 'object' && module.exports) module.exports = exported;
})(typeof globalThis !== 'undefined' ? globalThis : this);
