// The dashboard's HTTP side on a real coordinator (issue 14): the page and its assets from this
// server only, the state as JSON, and the event stream pushed as server-sent events.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { freePort, TestGrid, waitFor } from '../helpers/grid.js';
import type { Job } from '../../src/shared/proto.js';

describe('dashboard endpoints of a coordinator (test driver)', function () {
  this.timeout(60_000);
  let grid: TestGrid;
  let base: string;

  before(async () => {
    grid = new TestGrid();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await grid.startCoordinator({ extra: `dashboard: { listen: "127.0.0.1:${port}" }\n` });
    await grid.startAgent({ name: 'site-a' });
  });
  after(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('serves the page, its script and style with a same-origin-only policy, and nothing else', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).to.equal(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("default-src 'none'").and.contain("script-src 'self'").and.contain("connect-src 'self'");
    const html = await page.text();
    expect(html).to.contain('src="/app.js"');
    expect(html).to.not.match(/https?:\/\//); // no asset from elsewhere
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).to.match(/^text\/javascript/);
    expect((await fetch(`${base}/app.css`)).status).to.equal(200);
    expect((await fetch(`${base}/nope`)).status).to.equal(404);
    expect((await fetch(`${base}/api/state`, { method: 'DELETE' })).status).to.equal(405);
  });

  it('pushes the coordinator\'s events and serves the state they lead to', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).to.equal('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => undefined); // ends when aborted below
    const sub = await runCli(['--coordinator', grid.coordinator, 'submit', '--name', 'pushed', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--wait', '--json']);
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const events = await waitFor('the RUNNING event to be pushed', () => {
      const evs = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; job: string; state: string });
      return evs.some((e) => e.job === job.id && e.state === 'RUNNING') ? evs : undefined;
    });
    expect(events.filter((e) => e.job === job.id).map((e) => e.state)).to.include.members(['PENDING', 'DEPLOYING', 'RUNNING']);
    ac.abort();
    await pump;
    const state = (await (await fetch(`${base}/api/state`)).json()) as { jobs: Array<{ id: string; state: string; site: string; vms: unknown[] }>; sites: Array<{ name: string }> };
    expect(state.sites.map((s) => s.name)).to.deep.equal(['site-a']);
    expect(state.jobs.find((j) => j.id === job.id)).to.deep.include({ state: 'RUNNING', site: 'site-a' });
  });
});
