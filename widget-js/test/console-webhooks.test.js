'use strict';
// The Webhooks page's pure part: what a row shows of one delivery of the endpoint.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('../test-support/helpers.js');
const C = load('console');

const NOW = Date.parse('2026-12-02T10:00:00Z');
const base = { id: 'd1', event_type: 'message.created', conversation_id: '2002f62c-089f-4753-930e-6e8130bdd912',
  created_at: '2026-12-02T09:59:00Z', last_status: null, last_error: null, next_at: null, attempts: 0 };

test('a failing delivery shows its attempts, when it is tried next and why it failed', () => {
  const row = C.deliveryRow({ ...base, status: 'pending', attempts: 3, last_status: 503,
    last_error: 'the receiver answered 503 Service Unavailable', next_at: '2026-12-02T10:02:05Z' }, NOW);
  assert.deepEqual([row.status, row.tone, row.attempts, row.next, row.error],
    ['Retrying', 'amber', '3', 'in 2m 05s', 'the receiver answered 503 Service Unavailable']);
  assert.equal(row.conversation, '2002f62c');
  assert.equal(row.event, 'message.created');
});

test('a delivered one shows no retry nor error, a given-up one says so, a new one is queued', () => {
  const delivered = C.deliveryRow({ ...base, status: 'delivered', attempts: 1, last_status: 200 }, NOW);
  assert.deepEqual([delivered.status, delivered.tone, delivered.next, delivered.error], ['Delivered', 'teal', '\u2013', '\u2013']);
  const failed = C.deliveryRow({ ...base, status: 'failed', attempts: 31, last_status: 500 }, NOW);
  assert.deepEqual([failed.status, failed.tone, failed.next, failed.error], ['Given up', 'red', '\u2013', 'answered 500']);
  const queued = C.deliveryRow({ ...base, status: 'pending', next_at: '2026-12-02T09:59:59Z' }, NOW);
  assert.deepEqual([queued.status, queued.next], ['Queued', 'now']);
});
