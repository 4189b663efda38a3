#!/usr/bin/env node
// Opens the coordinator's dashboard in Debian's chromium (driven by playwright-core from tools/node; it never
// downloads a browser) through a one-time login link, and checks what a user would look at: the charts have points,
// the rank table shows every rank, a sample video loads, the page updates as steps advance without a reload, and the
// console shows no errors. Writes a screenshot and prints one JSON object ({ ok, failures, ... }); exits 1 when a
// check failed, 2 on a usage error.
//
//   node dashboard-check.mjs --login-url http://127.0.0.1:8080/login?code=... --screenshot out/dashboard.png --ranks 2
//        [--timeout 120] [--advance-timeout 20] [--expect-expired] [--chromium /usr/bin/chromium] [--node-modules DIR]
//
// --expect-expired checks the other path instead: the API refuses the session (401) and the page says so.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'login-url': { type: 'string' },
    screenshot: { type: 'string' },
    ranks: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '120' },
    'advance-timeout': { type: 'string', default: '20' },
    'expect-expired': { type: 'boolean', default: false },
    chromium: { type: 'string', default: process.env.SORA_CHROMIUM ?? '/usr/bin/chromium' },
    'node-modules': { type: 'string', default: resolve(dirname(fileURLToPath(import.meta.url)), '../../../tools/node/node_modules') },
  },
});
if (!args['login-url'] || !args.screenshot) {
  console.error('usage: dashboard-check.mjs --login-url URL --screenshot PNG [--ranks N] [--timeout S] [--advance-timeout S] [--expect-expired]');
  process.exit(2);
}

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = createRequire(join(args['node-modules'], 'noop.js'))('playwright-core');
const timeout = Number(args.timeout) * 1000;
const expectedRanks = Number(args.ranks);
const result = { ok: false, failures: [], consoleErrors: [], screenshot: resolve(args.screenshot) };
const fail = (check, message) => result.failures.push(`${check}: ${message}`);

/** Runs one check; a timeout or a thrown error fails that check only, so one run reports every problem. */
async function check(name, body) {
  try {
    await body();
  } catch (error) {
    fail(name, error.message.split('\n')[0]);
  }
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (message) => message.type() === 'error' && result.consoleErrors.push(`${message.text()} (${message.location().url ?? ''})`));
  page.on('pageerror', (error) => result.consoleErrors.push(`uncaught: ${error.message}`));

  const started = Date.now();
  const landing = await page.goto(args['login-url'], { waitUntil: 'load', timeout });
  result.url = page.url();
  if (!landing?.ok()) fail('login', `the login link answered ${landing?.status()} (landed on ${page.url()})`);
  if (new URL(page.url()).pathname !== '/') fail('login', `the login link did not redirect to / (landed on ${page.url()})`);
  // Marks this document: a reload would lose it.
  await page.evaluate(() => { window.soraCheckMark = true; });

  if (result.failures.length) {
    // Not logged in: every other check would only time out.
  } else if (args['expect-expired']) {
    await check('expired', async () => {
      await page.waitForSelector('#notice.expired', { state: 'visible', timeout });
      result.notice = await page.textContent('#notice');
      if (!result.notice.includes('session expired') || !result.notice.includes('sora dashboard')) fail('expired', `the notice says "${result.notice}"`);
    });
  } else {
    await check('charts', async () => {
      await page.waitForFunction(() => window.soraCharts && Object.values(window.soraCharts).every((c) => c.data[0].length > 0), null, { timeout });
    });
    result.charts = await page.evaluate(() => Object.fromEntries(Object.entries(window.soraCharts ?? {}).map(([name, c]) => [name, c.data[0].length])));

    await check('ranks', async () => {
      await page.waitForFunction((n) => document.querySelectorAll('#ranks tbody tr[data-rank]').length === n, expectedRanks, { timeout });
    });
    result.ranks = await page.$$eval('#ranks tbody tr[data-rank]', (rows) => rows.map((r) => ({ rank: Number(r.dataset.rank), straggler: r.dataset.straggler !== undefined, cells: [...r.cells].map((c) => c.textContent) })));

    await check('video', async () => {
      await page.waitForFunction(() => [...document.querySelectorAll('#samples video')].some((v) => v.readyState >= 2), null, { timeout, polling: 250 });
    });
    result.videos = await page.$$eval('#samples video', (videos) => videos.map((v) => ({
      src: v.getAttribute('src'), readyState: v.readyState, width: v.videoWidth, height: v.videoHeight, duration: v.duration, error: v.error?.message ?? v.error?.code ?? null,
    })));

    await check('updates', async () => {
      const progress = () => page.$eval('#job-step', (s) => ({ stage: s.dataset.stage, step: Number(s.dataset.step) }));
      const from = await progress();
      const t0 = Date.now();
      await page.waitForFunction(
        (f) => {
          const s = document.getElementById('job-step');
          return s.dataset.stage !== f.stage || Number(s.dataset.step) > f.step;
        },
        from,
        { timeout: Number(args['advance-timeout']) * 1000 },
      );
      result.updates = { from, to: await progress(), seconds: (Date.now() - t0) / 1000 };
      if (!(await page.evaluate(() => window.soraCheckMark === true))) fail('updates', 'the page reloaded');
    });
    result.refreshes = await page.evaluate(() => window.soraDashboard?.refreshes ?? 0);
    if (result.consoleErrors.length) fail('console', `${result.consoleErrors.length} error(s): ${result.consoleErrors[0]}`);
  }

  result.seconds = (Date.now() - started) / 1000;
  mkdirSync(dirname(result.screenshot), { recursive: true });
  await page.screenshot({ path: result.screenshot, fullPage: true });
} catch (error) {
  fail('browser', error.message.split('\n')[0]);
} finally {
  await browser.close();
}

result.ok = result.failures.length === 0;
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
