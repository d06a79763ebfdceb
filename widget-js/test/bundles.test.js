'use strict';
// bundles.json is the one list of the files in each served script, for the tests. The server
// cannot read JSON at compile time, so it lists them again with include_str!: these tests keep
// the two lists equal, and every script file in some bundle.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const BUNDLES = require('../bundles.json');
const { bundleFiles } = require('../test-support/helpers.js');

const WIDGET_JS_DIR = path.join(__dirname, '..');
const REPO = path.join(WIDGET_JS_DIR, '..');
/** Where the server's constants live (the first that exists), and their names by bundle. */
const RUST_FILES = ['server/src/http/assets.rs', 'server/src/routes.rs'];
const CONSTANTS = { widget: 'WIDGET_SOURCE', console: 'CONSOLE_JS' };

function rustSource() {
  for (const rel of RUST_FILES) {
    const file = path.join(REPO, rel);
    if (fs.existsSync(file) && /const WIDGET_SOURCE: &str/.test(fs.readFileSync(file, 'utf8'))) {
      return { file, text: fs.readFileSync(file, 'utf8') };
    }
  }
  assert.fail('no WIDGET_SOURCE constant in ' + RUST_FILES.join(' or '));
}

/** The files a `const NAME: &str = concat!(include_str!(..), "\n", ...);` joins, relative to widget-js/. */
function rustBundle(src, name) {
  const m = new RegExp('const ' + name + ': &str = concat!\\(([^;]*)\\);').exec(src.text);
  assert.ok(m, name + ' is not a concat! in ' + path.relative(REPO, src.file));
  const items = m[1].split(',').map((s) => s.trim()).filter(Boolean);
  const files = [];
  items.forEach((item, i) => {
    if (i % 2) {
      assert.equal(item, '"\\n"', name + ': the files are joined by "\\n", one between each two');
      return;
    }
    const inc = /^include_str!\("([^"]+)"\)$/.exec(item);
    assert.ok(inc, name + ': expected include_str!("…"), found ' + item);
    files.push(path.relative(WIDGET_JS_DIR, path.resolve(path.dirname(src.file), inc[1])).split(path.sep).join('/'));
  });
  assert.ok(items.length % 2 === 1, name + ' ends with a file, not a separator');
  return files;
}

function bundleNames() {
  return Object.keys(BUNDLES).filter((k) => !k.startsWith('$'));
}

test('the server joins the same files, in the same order, as bundles.json', () => {
  const src = rustSource();
  assert.deepEqual(bundleNames().sort(), Object.keys(CONSTANTS).sort());
  for (const name of bundleNames()) {
    assert.deepEqual(rustBundle(src, CONSTANTS[name]), bundleFiles(name),
      `${CONSTANTS[name]} in ${path.relative(REPO, src.file)} and "${name}" in bundles.json differ`);
  }
});

test('every file listed exists, and every script under src/ and console/ is in a bundle', () => {
  const listed = new Set(bundleNames().flatMap(bundleFiles));
  for (const f of listed) assert.ok(fs.existsSync(path.join(WIDGET_JS_DIR, f)), f + ' is listed but missing');
  const walk = (dir) => fs.readdirSync(path.join(WIDGET_JS_DIR, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir + '/' + e.name) : e.name.endsWith('.js') ? [dir + '/' + e.name] : []);
  for (const f of walk('src').concat(walk('console'))) assert.ok(listed.has(f), f + ' is in no bundle in bundles.json');
});

test("a bundle's scope files do not declare the same top-level name twice", () => {
  // They share one function scope: a second `function x` or `var x` would silently win.
  for (const name of bundleNames()) {
    const seen = {};
    for (const f of BUNDLES[name].scope) {
      const text = fs.readFileSync(path.join(WIDGET_JS_DIR, f), 'utf8');
      for (const m of text.matchAll(/^ {2}(?:function (\w+)|var (\w+))/gm)) {
        const id = m[1] || m[2];
        assert.ok(!seen[id], `${name}: ${id} is declared in ${seen[id]} and again in ${f}`);
        seen[id] = f;
      }
    }
  }
});
