'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const W = require('../test-support/helpers.js').load('widget');

const LOCALES = ['en', 'es', 'fr', 'de', 'pt', 'it', 'nl', 'ro', 'bg', 'lv', 'pl', 'zh', 'ru', 'tr', 'ja', 'hi', 'ar', 'he'];

test('every required locale is present and complete', () => {
  assert.deepEqual(Object.keys(W.STRINGS).sort(), [...LOCALES].sort());
  for (const locale of LOCALES) {
    const lines = W.STRINGS[locale].split('\n');
    assert.equal(lines.length, W.KEYS.length, locale);
    lines.forEach((line, i) => assert.ok(line.trim(), `${locale}.${W.KEYS[i]} is empty`));
  }
});

test('placeholders survive translation', () => {
  const en = W.translator('en');
  for (const locale of LOCALES) {
    const t = W.translator(locale);
    for (const key of W.KEYS) {
      const want = (en(key).match(/\{\w+\}/g) || []).sort();
      const got = (t(key).match(/\{\w+\}/g) || []).sort();
      assert.deepEqual(got, want, `${locale}.${key}`);
    }
  }
});

test('the visitor locale is chosen from candidates, region tags fall back to the language', () => {
  assert.equal(W.pickLocale(['fr-CA', 'en']), 'fr');
  assert.equal(W.pickLocale(['pt-BR']), 'pt');
  assert.equal(W.pickLocale(['zh-Hans-CN']), 'zh');
  assert.equal(W.pickLocale(['ko-KR', 'de-AT']), 'de');
  assert.equal(W.pickLocale(['ko', 'sw']), 'en');
  assert.equal(W.pickLocale(['ja-JP']), 'ja');
  assert.equal(W.pickLocale(['ru-RU', 'en']), 'ru');
  assert.equal(W.pickLocale(['LV']), 'lv');
  assert.equal(W.pickLocale(['en_GB']), 'en');
  assert.equal(W.pickLocale([]), 'en');
});

test('strings interpolate their variables', () => {
  assert.equal(W.translator('en')('queue', { n: 3 }), 'You are number 3 in line.');
  assert.equal(W.translator('de')('typing', { name: 'Ana' }), 'Ana schreibt…');
  assert.equal(W.translator('es')('open'), 'Abrir chat');
  assert.equal(W.translator('xx')('send'), 'Send');
  assert.equal(W.translator('ru')('typing', { name: 'Аня' }), 'Аня печатает…');
  assert.equal(W.translator('hi')('stars', { n: 4 }), '5 में से 4');
});

test('only the right-to-left locales turn the panel around', () => {
  assert.deepEqual(Object.keys(W.RTL).sort(), ['ar', 'he']);
  for (const locale of ['ru', 'tr', 'ja', 'hi']) assert.ok(!W.RTL[locale], locale);
});
