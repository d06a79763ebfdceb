'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { load, bundle } = require('../test-support/helpers.js');
const W = load('widget');
const { createDocument, serialize, allElements } = require('../test-support/fake-dom.js');

const ALLOWED_TAGS = new Set(['P', 'UL', 'OL', 'LI', 'PRE', 'CODE', 'STRONG', 'EM', 'A', 'BR']);
const ALLOWED_ATTRS = new Set(['href', 'target', 'rel', 'start']);

function render(md) {
  const doc = createDocument();
  const frag = W.renderMarkdown(md, doc);
  return { html: serialize(frag), elements: allElements(frag), text: frag.textContent };
}

/** Every element is whitelisted, every attribute too, every link is http(s) or mailto. */
function assertInert(out) {
  for (const el of out.elements) {
    assert.ok(ALLOWED_TAGS.has(el.tagName), 'unexpected element ' + el.tagName);
    for (const name of Object.keys(el.attributes)) assert.ok(ALLOWED_ATTRS.has(name), 'unexpected attribute ' + name);
    if (el.tagName === 'A') assert.match(el.attributes.href, /^(https?:|mailto:)/);
  }
}

test('paragraphs, emphasis, code, lists and links render as elements', () => {
  const out = render('Hello **world** and *you*, try `npm test`.\n\n- one\n- [two](https://example.com/a?b=1)\n\n1. first\n2. second');
  assert.equal(out.html,
    '<p>Hello <strong>world</strong> and <em>you</em>, try <code>npm test</code>.</p>' +
    '<ul><li>one</li><li><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">two</a></li></ul>' +
    '<ol><li>first</li><li>second</li></ol>');
  assertInert(out);
});

test('single newlines become line breaks and bare URLs become links', () => {
  const out = render('Call us\nor see https://northwind.example/returns.');
  assert.equal(out.html, '<p>Call us or see <a href="https://northwind.example/returns" target="_blank" rel="noopener noreferrer nofollow">https://northwind.example/returns</a>.</p>');
});

test('script tags and raw HTML come out as text', () => {
  const out = render('<script>alert(1)</script> <img src=x onerror="alert(2)"> <b onclick=alert(3)>x</b>');
  assertInert(out);
  assert.deepEqual(out.elements.map((e) => e.tagName), ['P']);
  assert.equal(out.text, '<script>alert(1)</script> <img src=x onerror="alert(2)"> <b onclick=alert(3)>x</b>');
  assert.ok(!out.html.includes('<script'));
});

test('javascript:, data: and other schemes never become links', () => {
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', '//evil.example/x', '/relative']) {
    const out = render(`[click me](${bad}) and ${bad}`);
    assertInert(out);
    assert.equal(out.elements.filter((e) => e.tagName === 'A').length, 0, bad);
    assert.ok(out.text.includes('click me'), bad);
  }
});

test('link text cannot smuggle a nested link, and mailto works', () => {
  const out = render('[see https://a.example](https://b.example) or [mail](mailto:help@northwind.example)');
  assertInert(out);
  const links = out.elements.filter((e) => e.tagName === 'A').map((a) => a.attributes.href);
  assert.deepEqual(links, ['https://b.example/', 'mailto:help@northwind.example']);
});

test('snake_case words are not emphasis; code keeps its content literal', () => {
  const out = render('use order_id_here and `**not bold** <i>`');
  assert.equal(out.html, '<p>use order_id_here and <code>**not bold** &lt;i&gt;</code></p>');
});

test('fenced code and headings', () => {
  const out = render('# Returns\n```\n<b>raw</b>\n```');
  assert.equal(out.html, '<p><strong>Returns</strong></p><pre><code>&lt;b&gt;raw&lt;/b&gt;</code></pre>');
});

test('an unfinished stream (half a link, a lone star) still renders safely', () => {
  for (const partial of ['Visit [our page](https://exa', '**bold', 'a * b', '- ', '[x](javascript:al']) {
    assertInert(render(partial));
  }
});

test('the widget never parses HTML strings', () => {
  const src = bundle('widget');
  for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'createContextualFragment', 'DOMParser', 'eval(', 'new Function']) {
    assert.ok(!src.includes(sink), 'found ' + sink);
  }
});

test('colours from configuration are validated', () => {
  assert.equal(W.safeColor('#12abEF'), '#12abEF');
  assert.equal(W.safeColor('red;background:url(x)'), null);
  assert.equal(W.onColor('#ffffff'), '#16181d');
  assert.equal(W.onColor('#2f5bd3'), '#ffffff');
  assert.equal(W.onColor('#fe0'), '#16181d');
});
