// The real-browser tier (issue 14, scripts/test-dashboard.sh): Debian's Chromium, headless, driven
// by playwright-core, loads the dashboard of a running grid (test driver); a job submitted and
// migrated through the CLI shows up, moving, then running at the destination. Screenshots go to
// the test's temp dir (BRINE_SCREENSHOTS=DIR keeps copies elsewhere).
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCli, spawnCli } from '../helpers/cli.js';
import { freePort, TestGrid } from '../helpers/grid.js';
import type { Job } from '../../src/shared/proto.js';

const CHROMIUM = process.env.BRINE_CHROMIUM ?? '/usr/bin/chromium';

describe('the dashboard in a real browser', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let url: string;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  const shot = async (name: string): Promise<string> => {
    const file = join(dir, name);
    await page.screenshot({ path: file, fullPage: true });
    const keep = process.env.BRINE_SCREENSHOTS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, name));
    }
    return file;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brine-browser-'));
    grid = new TestGrid();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    await grid.startCoordinator({ heartbeatTimeout: '10s', extra: `dashboard: { listen: "127.0.0.1:${port}" }\n` });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      // without the background-networking flags Chromium dials out, and this closed network refuses it
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });
  after(async function () {
    await context?.close();
    await grid?.close(this.currentTest?.state === 'failed');
    if (this.currentTest?.state !== 'failed') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`screenshots kept in ${dir}\n`);
  });

  it('shows the sites live, with their nodes and free capacity', async () => {
    await page.goto(url);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    await page.locator('[data-site="site-a"][data-state="UP"] [data-node="a1"]').waitFor();
    await page.locator('[data-site="site-b"][data-state="UP"] [data-node="b2"]').waitFor();
    expect(await page.locator('[data-site="site-a"] [data-node="a1"] label').first().textContent()).to.equal('8 of 8 cpus free');
    await shot('1-sites.png');
  });

  it('shows a job submitted and migrated through the CLI moving, then running at the destination', async () => {
    const sub = await cli('submit', '--name', 'watched', '--vms', '2', '--cpus', '2', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const row = (extra: string) => page.locator(`tr[data-job="${job.id}"]${extra}`);
    await row('[data-state="RUNNING"][data-site="site-a"]').waitFor();
    expect(await page.locator('[data-site="site-a"] [data-node="a1"] label').first().textContent()).to.match(/^[0-9]+ of 8 cpus free$/);
    expect(await page.locator(`[data-detail="${job.id}"]`).textContent()).to.contain('no snapshot yet');

    // no checkpoint before: the move takes a pre-copy, then its final snapshot (both charted)
    // the page only reads; it must show the move while the CLI runs it
    const moving = page.locator(`[data-move="${job.id}"]`).waitFor({ timeout: 60_000 });
    const migrate = spawnCli(['--coordinator', grid.coordinator, 'migrate', job.id, '--to', 'site-b', '--json'], { timeoutMs: 60_000 });
    await moving;
    expect(await page.locator(`[data-move="${job.id}"] .route`).textContent()).to.contain('site-a → site-b');
    await shot('2-moving.png');
    const done = await migrate.result;
    expect(done.code, done.stderr).to.equal(0);

    await row('[data-state="RUNNING"][data-site="site-b"]').waitFor();
    await page.locator(`[data-move="${job.id}"]`).waitFor({ state: 'detached' });
    const vms = await row('').locator('[data-vm]').allTextContents();
    expect(vms).to.have.length(2);
    for (const v of vms) expect(v).to.match(/ b[12] 10\.151\.\d+\.\d+ RUNNING$/);
    // its history as a timeline, with the move in it, and its snapshots charted
    expect(await page.locator(`[data-detail="${job.id}"] rect.st-RELOCATING`).count()).to.be.greaterThan(0);
    expect(await page.locator(`[data-detail="${job.id}"] rect.total[data-snapshot]`).count()).to.be.greaterThan(1);
    expect(await page.locator('#activity li[data-type="job.state"]', { hasText: 'RELOCATING' }).count()).to.be.greaterThan(0);
    await shot('3-moved.png');

    // nothing from outside this machine, nothing broken in the page
    const origin = new URL(url).origin;
    expect(requests.filter((r) => !r.startsWith(origin))).to.deep.equal([]);
    expect(consoleErrors).to.deep.equal([]);
  });

  it('is read-only', async () => {
    const res = await fetch(`${url}api/state`, { method: 'POST' });
    expect(res.status).to.equal(405);
  });
});
