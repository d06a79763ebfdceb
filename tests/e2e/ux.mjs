// Shared by the visitor-experience and agent-experience browser tests: screenshots at the four
// widths every state is looked at, and the axe-core accessibility check injected by playwright.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO, SHOTS } from './support.mjs';

const require = createRequire(join(REPO, 'widget-js/package.json'));
const AXE = require.resolve('axe-core/axe.min.js');

/** Desktop, small laptop, tablet, phone. */
export const WIDTHS = [1440, 1024, 760, 390];

/** One screenshot per width, `${SHOTS}/${name}-${width}.png`; the viewport is restored. */
export async function shoot(page, name) {
  const before = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    await page.waitForTimeout(50); // a frame for the layout, not a wait for the server
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png` });
  }
  await page.setViewportSize(before);
}

/**
 * Runs axe-core on the page (shadow roots included) and returns the serious and critical
 * violations as "rule: target" strings, so a failing assertion names what to fix.
 */
export async function axeViolations(page, include) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async (include) => {
    const result = await window.axe.run(include ? { include } : document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id}: ${JSON.stringify(n.target)} ${n.failureSummary.split('\n').slice(1, 2).join('')}`));
  }, include || null);
  return found;
}

/** axe at every width: a layout that breaks only on a phone is caught too. */
export async function axeEverywhere(page, label, include) {
  const before = page.viewportSize();
  const all = [];
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    for (const v of await axeViolations(page, include)) all.push(`${label} @${width}: ${v}`);
  }
  await page.setViewportSize(before);
  return all;
}

/**
 * A development aid: with BATON_ASSETS=disk the browser gets the widget and console files from
 * this checkout (bundles.json) instead of the ones compiled into the binary, so a JS or CSS
 * change is tried without a rebuild. Unset (as in scripts/test), the binary serves them.
 */
export async function assetsFromDisk(ctx) {
  if (process.env.BATON_ASSETS !== 'disk') return;
  const { bundle } = require(join(REPO, 'widget-js/test-support/helpers.js'));
  const { readFileSync } = await import('node:fs');
  const files = {
    '/widget.js': ['application/javascript', () => bundle('widget')],
    '/console/console.js': ['application/javascript', () => bundle('console')],
    '/console/console.css': ['text/css', () => readFileSync(join(REPO, 'widget-js/console/console.css'), 'utf8')]
  };
  // Pages are not replaced: Chromium treats a fulfilled page as remote and blocks its sockets.
  await ctx.route((url) => !!files[url.pathname], (route) => {
    const [type, body] = files[new URL(route.request().url()).pathname];
    route.fulfill({ status: 200, headers: { 'content-type': type + '; charset=utf-8', 'access-control-allow-origin': '*' }, body: body() });
  });
}
