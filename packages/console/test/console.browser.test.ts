// The console in a real headless Chromium (Debian's chromium, driven by playwright-core) against
// real `spillway up` processes: start a burst from the UI and watch its chart move, abort it, run a
// drill and read its report. Any console error, page error, failed request or HTTP error fails the
// test. Screenshots go to test-artifacts/console/ (gitignored) for a person to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@spillway/test/support/wait';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_CONFIG, type RunningSpillway, startSpillway } from './console-world.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url));

let browser: Browser;
let lab: RunningSpillway;
let fleet: RunningSpillway;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run npm run test:setup (installs Debian's chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  [browser, lab, fleet] = await Promise.all([
    // Root in a container has no user namespaces for Chromium's sandbox.
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
    startSpillway(LAB_CONFIG),
    startSpillway(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([lab?.stop(), fleet?.stop()]);
});

/** A page that records every problem the user would not see but should never happen. */
async function openConsole(server: RunningSpillway, hash: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A poll cancelled because its page was left is the console's own doing, not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  await page.goto(`${server.api}/ui${hash}`);
  // Keyboard first: Tab reaches "Skip to content", then the page links, in reading order.
  await page.getByRole('navigation', { name: 'Console pages' }).waitFor();
  const focused = () => page.evaluate<string | undefined>('document.activeElement?.textContent?.trim()');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Skip to content');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Bursts');
  // The token, typed once, kept for the tab; sent as a header, never in a URL.
  await page.getByLabel('Operator token').fill(server.token);
  await page.getByLabel('Operator token').press('Enter');
  await page.getByText('Token set for this tab').waitFor();
  return { page, problems };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('the console in Chromium', () => {
  it('starts a burst, shows its share stepping up on the chart, aborts it', async () => {
    const { page, problems } = await openConsole(lab, '#/bursts');
    await page.getByLabel('Service (NAME.NS)').fill('echo.demo');
    await page.getByLabel('Cloud share (0.01 to 1)').fill('0.3');
    await page.getByLabel('Steps below it (optional, e.g. 0.1, 0.2)').fill('0.1, 0.2');
    await page.getByLabel('Reason (goes to the audit log)').fill('console test: rehearse a spill');
    await page.getByRole('button', { name: 'Start burst' }).press('Enter');

    await page.waitForURL(/#\/bursts\/manual-/);
    const chart = page.getByRole('img', { name: /^Committed cloud share after each decision/ });
    const points = async () => Number(await chart.getAttribute('data-points'));
    const first = await waitFor(points, { timeoutMs: 15_000, message: 'the chart has points' });
    // The policy steps every second: 0.1, 0.2, then the requested 0.3, each a new point.
    await page.getByText('30% of 30%').waitFor({ timeout: 30_000 });
    expect(await points()).toBeGreaterThan(first);
    await page.locator('canvas').first().waitFor();
    await expect(page.getByText('holding', { exact: false }).first().isVisible()).resolves.toBe(true);
    // Load is measured here, but no client reports it: the console says so rather than guessing.
    await page.getByText(/no reports over \d+ s \(0 requests\): no-data/).waitFor();
    // The running cost, from the policy's prices (nothing it manages is priced here).
    await expect(page.getByTestId('burst-cost').textContent()).resolves.toBe(
      '0.00 EUR so far, 0.00 EUR/h now, budget 12.00 EUR',
    );
    await shot(page, 'burst-holding');

    // Where the share went: the router now serves the cloud locality for every client locality.
    const eds = await page.evaluate(async (url) => (await fetch(url)).json(), `${lab.api}/v1/services/demo/echo/eds`);
    expect((eds as { policyShare: number }).policyShare).toBeCloseTo(0.3);

    await page.getByLabel('Reason (optional)').fill('console test: done');
    await page.getByRole('button', { name: 'Abort burst' }).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Abort requested' }).waitFor();
    await waitFor(async () => (await page.getByTestId('burst-phase').textContent()) === 'ended', {
      timeoutMs: 30_000,
      message: 'the burst ended after the abort',
    });
    await page.getByRole('cell', { name: /abort/i }).first().waitFor();
    // The timeline follows: the abort is a phase of its own, and the line comes back to 0.
    await page.locator('.phases').getByText('aborted', { exact: true }).waitFor({ timeout: 15_000 });
    await shot(page, 'burst-aborted');

    // The list heads the burst's row with a link to it, and says which service it moved.
    const burstLink = page.url().slice(page.url().indexOf('#'));
    await page.getByRole('link', { name: 'Bursts', exact: true }).click();
    const burstRow = page.getByRole('row').filter({ has: page.locator(`th a[href="${burstLink}"]`) });
    await burstRow.getByRole('cell', { name: 'echo.demo', exact: true }).waitFor();
    expect(problems).toEqual([]);
  });

  it('runs a pasted drill, shows its progress and its report with the share chart', async () => {
    const { page, problems } = await openConsole(fleet, '#/drills');
    // The shipped drills are offered; picking one fills the editor.
    await page.getByLabel('Shipped drill').selectOption('site-down.yaml');
    await expect(page.getByLabel('Drill file (YAML)').inputValue()).resolves.toContain('name: dc2 site down');
    await page.getByLabel('Drill file (YAML)').fill(SHORT_DRILL);
    await page.getByRole('radio', { name: 'simulated' }).check();
    await page.getByRole('button', { name: 'Run drill' }).press('Enter');
    await page.waitForURL(/#\/drills\/drill-/);
    await page.getByRole('status').first().waitFor();
    await shot(page, 'drill-running');
    await page.getByTestId('drill-outcome').waitFor({ timeout: 40_000 });

    expect(await page.getByTestId('drill-outcome').textContent()).toMatch(/Outcome: (passed|failed)/);
    const chart = page.getByRole('img', { name: /Cloud share the router published/ });
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(2);
    await page.getByRole('rowheader', { name: 'errorRatioBelow' }).waitFor();
    await shot(page, 'drill-report');

    // The list heads the drill's row with a link to it: simulated, done.
    const drillLink = page.url().slice(page.url().indexOf('#'));
    await page.getByRole('link', { name: 'Drills', exact: true }).click();
    const drillRow = page.getByRole('row').filter({ has: page.locator(`th a[href="${drillLink}"]`) });
    await drillRow.getByRole('cell', { name: 'simulated', exact: true }).waitFor();
    await drillRow.getByRole('cell', { name: 'done', exact: true }).waitFor();

    // The other pages of the embedded process render from their APIs.
    await page.getByRole('link', { name: 'Fleet' }).click();
    // Every simulated site's source is live.
    await page.getByRole('cell', { name: 'live', exact: true }).first().waitFor();
    await page.getByRole('link', { name: 'checkout.shop' }).click();
    await page.getByText(/Client in dc1\/dc1-a \(onprem\)/).waitFor();
    await shot(page, 'service');

    await page.getByRole('link', { name: 'xDS clients' }).click();
    await page.getByRole('heading', { name: 'xDS clients' }).waitFor();

    // cart.shop's predictive policy: its forecast is listed, and the burst it warms shows the
    // forecast it was decided with and the warm capacity (share 0.5 while the peak is ahead: 6 replicas on 2 nodes).
    await page.getByRole('link', { name: 'Bursts', exact: true }).click();
    await page.getByTestId('forecasts').getByRole('rowheader', { name: 'cart.shop' }).waitFor();
    const cartBurst = page.locator('tr', { hasText: 'cart.shop' }).getByRole('link');
    await cartBurst.first().waitFor({ timeout: 60_000 });
    await cartBurst.first().click();
    await page
      .getByTestId('burst-forecast')
      .filter({ hasText: /rps now, peak \d+ rps within 30 s/ })
      .waitFor();
    await page
      .getByTestId('burst-warm')
      .filter({ hasText: /for (50|25)%: \d+ replicas, \d+ nodes; warmed since/ })
      .waitFor();
    await shot(page, 'burst-forecast');
    expect(problems).toEqual([]);
  });
});

/** search.catalog loses its dc2 site for 3 s: on-prem clients in dc2 spill into the cloud. */
const SHORT_DRILL = `name: short dc2 site down
description: the console test's drill
mode: simulated
target:
  service: search.catalog
  clients:
    - { region: dc2, zone: dc2-a }
probes: { ratePerSecond: 40, timeoutMs: 2000 }
durationSeconds: 6
timeline:
  - { atSeconds: 1, forSeconds: 3, action: { kind: site-down, site: dc2 } }
expect:
  errorRatioBelow: 0.5
`;
