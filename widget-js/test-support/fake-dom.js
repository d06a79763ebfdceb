// A deliberately small stand-in for the DOM, enough for the widget's own calls (no jsdom):
// elements, text nodes, fragments, classes, attributes, listeners, `.class` selectors.
'use strict';

class Text {
  constructor(data) { this.nodeType = 3; this.data = String(data); this.parentNode = null; }
  get textContent() { return this.data; }
  remove() { if (this.parentNode) this.parentNode.removeChild(this); }
}

class Element {
  constructor(doc, tag) {
    this.ownerDocument = doc;
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attributes = {};
    this.childNodes = [];
    this.parentNode = null;
    this.listeners = {};
    this.style = { setProperty(k, v) { this[k] = v; } };
    this.scrollTop = 0; this.scrollHeight = 0; this.clientHeight = 0;
    this.value = '';
    const el = this;
    this.classList = {
      contains: (c) => el.className.split(/\s+/).includes(c),
      add: (c) => { if (!el.classList.contains(c)) el.className = (el.className + ' ' + c).trim(); },
      remove: (c) => { el.className = el.className.split(/\s+/).filter((x) => x && x !== c).join(' '); },
      toggle: (c, force) => {
        const on = force === undefined ? !el.classList.contains(c) : !!force;
        on ? el.classList.add(c) : el.classList.remove(c);
        return on;
      }
    };
  }
  get className() { return this.attributes.class || ''; }
  set className(v) { this.attributes.class = String(v); }
  get hidden() { return 'hidden' in this.attributes; }
  set hidden(v) { if (v) this.attributes.hidden = ''; else delete this.attributes.hidden; }
  get title() { return this.attributes.title || ''; }
  set title(v) { this.attributes.title = String(v); }
  get firstChild() { return this.childNodes[0] || null; }
  get children() { return this.childNodes.filter((n) => n.nodeType === 1); }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  getAttribute(k) { return k in this.attributes ? this.attributes[k] : null; }
  removeAttribute(k) { delete this.attributes[k]; }
  hasAttribute(k) { return k in this.attributes; }
  get textContent() { return this.childNodes.map((n) => n.textContent).join(''); }
  set textContent(v) { this.replaceChildren(); if (v !== '' && v != null) this.appendChild(new Text(v)); }
  appendChild(c) { return this.insertBefore(c, null); }
  insertBefore(c, ref) {
    if (c.nodeType === 11) { c.childNodes.slice().forEach((n) => this.insertBefore(n, ref)); return c; }
    if (c.parentNode) c.parentNode.removeChild(c);
    const i = ref ? this.childNodes.indexOf(ref) : -1;
    if (i < 0) this.childNodes.push(c); else this.childNodes.splice(i, 0, c);
    c.parentNode = this;
    return c;
  }
  removeChild(c) {
    const i = this.childNodes.indexOf(c);
    if (i >= 0) this.childNodes.splice(i, 1);
    c.parentNode = null;
    return c;
  }
  replaceChildren(...kids) {
    this.childNodes.slice().forEach((n) => this.removeChild(n));
    kids.forEach((k) => this.appendChild(typeof k === 'string' ? new Text(k) : k));
  }
  remove() { if (this.parentNode) this.parentNode.removeChild(this); }
  contains(n) { for (; n; n = n.parentNode) if (n === this) return true; return false; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  dispatch(type, extra) {
    const ev = Object.assign({ type, target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } }, extra);
    (this.listeners[type] || []).forEach((fn) => fn(ev));
    return ev;
  }
  click() { this.dispatch('click'); if (this.tagName === 'BUTTON' && this.getAttribute('type') === 'submit') this.closest('FORM')?.dispatch('submit'); }
  closest(tag) { for (let n = this; n; n = n.parentNode) if (n.tagName === tag) return n; return null; }
  focus() { this.ownerDocument.activeElement = this; }
  reportValidity() { return true; }
  attachShadow() { const s = new Element(this.ownerDocument, '#shadow-root'); s.activeElement = null; this.shadowRoot = s; return s; }
  all() { return this.childNodes.filter((n) => n.nodeType === 1).flatMap((n) => [n, ...n.all()]); }
  querySelectorAll(sel) { return this.all().filter((n) => matches(n, sel)); }
  querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
}

function matches(el, sel) {
  if (sel.startsWith('.')) return sel.slice(1).split('.').every((c) => el.classList.contains(c));
  return el.tagName === sel.toUpperCase();
}

class Fragment extends Element {
  constructor(doc) { super(doc, '#fragment'); this.nodeType = 11; }
}

function createDocument() {
  const doc = {
    activeElement: null,
    createElement: (tag) => new Element(doc, tag),
    createElementNS: (ns, tag) => new Element(doc, tag),
    createTextNode: (t) => new Text(t),
    createDocumentFragment: () => new Fragment(doc),
    addEventListener() {},
    querySelectorAll: () => [],
    title: 'Test page'
  };
  doc.body = new Element(doc, 'body');
  doc.documentElement = new Element(doc, 'html');
  return doc;
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ESC[c]);

/** HTML-ish serialisation: text escaped, as a browser would show the tree. */
function serialize(node) {
  if (node.nodeType === 3) return esc(node.data);
  const inner = node.childNodes.map(serialize).join('');
  if (node.nodeType === 11) return inner;
  const tag = node.tagName.toLowerCase();
  const attrs = Object.entries(node.attributes).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
  return `<${tag}${attrs}>${inner}</${tag}>`;
}

function allElements(node) {
  return node.childNodes.filter((n) => n.nodeType === 1).flatMap((n) => [n, ...allElements(n)]);
}

module.exports = { createDocument, serialize, allElements, Element, Text };
