'use strict';
// The server serves protocol.js + "\n" + widget.js as GET /widget.js; a visitor downloads it
// gzip-compressed. That download must stay within the 20 KB budget.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const BUDGET_BYTES = 20480;

test('the served widget.js is at most 20 KB gzipped', (t) => {
  const src = path.join(__dirname, '../src');
  const bundle = fs.readFileSync(path.join(src, 'protocol.js'), 'utf8') + '\n' + fs.readFileSync(path.join(src, 'widget.js'), 'utf8');
  const gzipped = zlib.gzipSync(Buffer.from(bundle), { level: 9 }).length;
  t.diagnostic(`widget.js: ${Buffer.byteLength(bundle)} bytes, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);
  assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped exceeds ${BUDGET_BYTES}`);
});

test('the concatenation parses as one classic script', () => {
  const src = path.join(__dirname, '../src');
  const bundle = fs.readFileSync(path.join(src, 'protocol.js'), 'utf8') + '\n' + fs.readFileSync(path.join(src, 'widget.js'), 'utf8');
  const vm = require('node:vm');
  new vm.Script(bundle, { filename: 'widget.js' });
});
