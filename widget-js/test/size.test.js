'use strict';
// The server serves the widget bundle (bundles.json: its files joined by newlines) as GET
// /widget.js; a visitor downloads it gzip-compressed. That download must stay within the 20 KB
// budget.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

// 20 KB until issue #16 added two right-to-left locales, the rating/ending/preview UI and
// attachments (upload with progress and cancel, thumbnails, a lightbox, five strings x 14 locales);
// issue #15 then added the verified-identity line and a verified visitor's history (~330 bytes),
// the resume link and the ended chat's transcript-by-email form (one string x 14 locales, ~430
// bytes); issue #19's four locales (ru, tr, ja, hi: ~2.6 KB) took it to 30,000; the
// measurement and the reasons are in ../README.md (#size).
const BUDGET_BYTES = 30000;

const { bundle } = require('../test-support/helpers.js');

test('the served widget.js is at most 30,000 bytes gzipped', (t) => {
  const js = bundle('widget');
  const gzipped = zlib.gzipSync(Buffer.from(js), { level: 9 }).length;
  t.diagnostic(`widget.js: ${Buffer.byteLength(js)} bytes, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);
  assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped exceeds ${BUDGET_BYTES}`);
});

test('the concatenation parses as one classic script', () => {
  const vm = require('node:vm');
  const sandbox = {};
  vm.runInNewContext(bundle('widget'), sandbox, { filename: 'widget.js' });
  assert.equal(typeof sandbox.BatonWidget.Widget, 'function', 'the widget finds the shared renderer without require');
});
