'use strict';
// The Reports page's pure parts: the endpoint's query from the form, and the figures shown.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('../test-support/helpers.js');
const C = load('console');

test('the query covers whole local days, the end day included, and only the fields given', () => {
  const q = C.reportQuery({ from: '2026-11-02', to: '2026-11-08', site: ' demo ', team: '', agent: 'ana', period: 'week' }, 'csv');
  const params = new URLSearchParams(q);
  assert.equal(new Date(params.get('from')).getTime(), new Date('2026-11-02T00:00:00').getTime());
  assert.equal(new Date(params.get('to')).getTime(), new Date('2026-11-09T00:00:00').getTime());
  assert.equal(params.get('site'), 'demo');
  assert.equal(params.has('team'), false);
  assert.equal(params.get('agent'), 'ana');
  assert.equal(params.get('period'), 'week');
  assert.equal(params.get('format'), 'csv');
  assert.equal(C.reportQuery({ from: '', to: '2026-11-08' }), null, 'no start date: no query');
});

test('the cards show every figure of a report, and none as a dash', () => {
  const p = (p50, p90) => ({ p50, p90, count: p50 == null ? 0 : 1 });
  const cards = C.reportCards({
    conversations: 8, resolved_by_bot: 2, bot_resolution_rate: 0.25, escalated: 4, handoff_rate: 0.5,
    first_bot_answer_secs: p(3, 7), wait_for_agent_secs: p(60, 120), first_response_secs: p(10, 30), handle_secs: p(300, null),
    csat: { bot: 4, human: 3, bot_ratings: 2, human_ratings: 1 },
    left_messages: { count: 2, answered: 1, answer_secs: p(null, null) }, offers: { made: 2, taken: 1 }
  });
  const shown = Object.fromEntries(cards.map((c) => [c[0], [c[1], c[2]]]));
  assert.deepEqual(shown['Bot resolution'], ['25%', '2 resolved with no person']);
  assert.deepEqual(shown['Handoff rate'], ['50%', '4 to a person']);
  assert.deepEqual(shown['Wait for a person'], ['1m 00s', 'p90 2m 00s']);
  assert.deepEqual(shown['Handle time'], ['5m 00s', 'p90 \u2013']);
  assert.deepEqual(shown['CSAT, bot only'], ['4.00', '2 ratings']);
  assert.deepEqual(shown['CSAT, with a person'], ['3.00', '1 rating']);
  assert.deepEqual(shown['Left messages'], ['2', '1 answered, p50 \u2013']);
  assert.deepEqual(shown['Offers of a person'], ['2', '1 taken']);
  assert.equal(cards.length, 11);
});
