'use strict';
// The API keys page's pure part: what a row shows of one key, and what the form sends.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('../test-support/helpers.js');
const C = load('console');

const base = { id: 'k1', site: 'demo', scope: 'write', name: 'CRM sync', prefix: 'bk_1a2b3c4d',
  created_at: '2026-12-02T09:00:00Z', revoked_at: null };

test('an active key shows its name, first characters, site and scope, and can be revoked', () => {
  const row = C.keyRow(base);
  assert.deepEqual([row.name, row.prefix, row.site, row.scope, row.status, row.tone, row.active],
    ['CRM sync', 'bk_1a2b3c4d\u2026', 'demo', 'write', 'Active', 'teal', true]);
  assert.ok(row.created.length > 0);
});

test('a revoked key says when it was revoked and offers no revoke; an unnamed one says so', () => {
  const row = C.keyRow({ ...base, name: '', revoked_at: '2026-12-02T10:00:00Z' });
  assert.equal(row.active, false);
  assert.match(row.status, /^Revoked /);
  assert.equal(row.name, '(no name)');
});

test('the form sends a trimmed name, the site and a known scope, and says what is missing', () => {
  assert.deepEqual(C.keyRequest({ name: '  CRM sync ', site: 'demo', scope: 'admin' }),
    { body: { site: 'demo', scope: 'admin', name: 'CRM sync' } });
  assert.match(C.keyRequest({ name: ' ', site: 'demo', scope: 'read' }).error, /name/);
  assert.match(C.keyRequest({ name: 'x'.repeat(101), site: 'demo', scope: 'read' }).error, /at most 100/);
  assert.match(C.keyRequest({ name: 'x', site: '', scope: 'read' }).error, /site/);
  assert.match(C.keyRequest({ name: 'x', site: 'demo', scope: 'owner' }).error, /scope/);
});
