'use strict';
// Property tests of the Markdown renderer (src/render.js), the one parser of outside input in
// the browser code: for any text, and for every input kept in fuzz/corpus/render_js/, it never
// throws, builds only whitelisted elements and attributes with http(s)/mailto links, and
// keeps the text: nothing appears that was not written, and every word written is shown
// (as text or as a link's address). Bounded (a few hundred runs) so `npm test` stays fast;
// a failing input is printed by fast-check: add it to the corpus once fixed.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const fc = require('fast-check');
const R = require('../src/render.js');
const { createDocument, allElements } = require('../test-support/fake-dom.js');

const ALLOWED_TAGS = new Set(['P', 'UL', 'OL', 'LI', 'PRE', 'CODE', 'STRONG', 'EM', 'A', 'BR']);
const ALLOWED_ATTRS = new Set(['href', 'target', 'rel', 'start']);
const CORPUS = path.join(__dirname, '../../fuzz/corpus/render_js');
// scripts/fuzz raises this for a long run; `npm test` keeps it small.
const RUNS = Number(process.env.FAST_CHECK_RUNS) || 600;

/** The properties, for one input; throws (with the input) when one breaks. */
function check(input, breaks) {
  const doc = createDocument();
  const frag = R.renderMarkdown(input, doc, breaks);
  const elements = allElements(frag);
  const hrefs = [];
  for (const el of elements) {
    assert.ok(ALLOWED_TAGS.has(el.tagName), 'element ' + el.tagName);
    for (const name of Object.keys(el.attributes)) assert.ok(ALLOWED_ATTRS.has(name), 'attribute ' + name);
    if (el.tagName === 'A') {
      assert.match(el.attributes.href, /^(https?:|mailto:)/i, 'link ' + el.attributes.href);
      hrefs.push(el.attributes.href.toLowerCase());
    }
  }
  const text = frag.textContent;
  // Nothing appears that was not written: the shown text is a subsequence of the input.
  const squeeze = (s) => String(s).replace(/\s+/g, '');
  const shown = squeeze(text);
  const written = squeeze(input);
  let at = 0;
  for (const ch of shown) {
    at = written.indexOf(ch, at);
    assert.ok(at >= 0, 'shown but never written: ' + JSON.stringify(ch));
    at += ch.length;
  }
  // Every word written is shown, or is the address of a link (which the URL parser may
  // normalise: compared without case, and link targets themselves are left out). A fence
  // line's info string (```js) is not shown, as in CommonMark.
  const outsideTargets = String(input).replace(/\r\n?/g, '\n').replace(/^[ \t]*```.*$/gm, ' ').replace(/\]\([^)]*\)/g, ' ');
  for (const word of outsideTargets.match(/[A-Za-z]+/g) || []) {
    const lower = word.toLowerCase();
    const found = text.includes(word) || text.toLowerCase().includes(lower) || hrefs.some((h) => h.includes(lower));
    assert.ok(found, 'written but not shown: ' + JSON.stringify(word));
  }
}

const pieces = fc.constantFrom(
  '*', '**', '_', '__', '`', '```', '#', '## ', '- ', '* ', '1. ', '2) ', '\n', '\n\n', '  ', '\r\n', ' ',
  '[', ']', '(', ')', '<', '>', '"', "'", '&', '&amp;', '<script>alert(1)</script>', '<img src=x onerror=alert(1)>',
  'javascript:alert(1)', 'https://example.com/a?b=1&c=<d>', 'mailto:a@b.example', 'http://', 'data:text/html,x',
  '[link](https://example.com)', '[x](javascript:alert(1))', '[x](<https://a.example/b>)', 'snake_case_word', '\u202e',
  '\u200b', 'word', 'Ünïcode', '😀'
);
const markdownish = fc.array(fc.oneof(pieces, fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

test('any Markdown-like text renders inert, without throwing, and keeps its words', () => {
  fc.assert(fc.property(markdownish, fc.boolean(), (input, breaks) => { check(input, breaks); }), { numRuns: RUNS });
});

test('any string at all renders without throwing', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => { check(input, false); }), { numRuns: Math.ceil(RUNS / 2) });
  for (const odd of [null, undefined, 42, '']) check(odd == null ? '' : odd, false);
});

test('the kept corpus replays without a broken property', () => {
  const files = fs.readdirSync(CORPUS);
  assert.ok(files.length > 0, 'no corpus in ' + CORPUS);
  for (const file of files) {
    const input = fs.readFileSync(path.join(CORPUS, file), 'utf8');
    assert.doesNotThrow(() => check(input, false), file);
    assert.doesNotThrow(() => check(input, true), file);
  }
});
