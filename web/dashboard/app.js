// brine dashboard: renders GET /api/state, and re-reads it whenever the coordinator's event stream
// (GET /api/events, server-sent events) says something changed. Read-only; every text from the
// grid goes into the page as text (textContent), never as markup.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_ACTIVITY = 200;
let state = null;
let pending = null;

function el(tag, attrs, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
const badge = (s) => el('span', { class: `badge st-${s}`, 'data-field': 'state' }, s);

function bar(value, max, title) {
  return el('progress', { max: Math.max(1, max), value: Math.max(0, Math.min(value, max)), title });
}

function renderSites() {
  const root = document.getElementById('sites');
  root.replaceChildren(...state.sites.map((s) => el('div', { class: 'card', 'data-site': s.name, 'data-state': s.state },
    el('h3', {}, s.name, badge(s.state), el('span', { class: 'meta' }, s.heartbeatAgeMs === null ? 'no heartbeat yet' : `heartbeat ${duration(s.heartbeatAgeMs)} ago`)),
    s.nodes.map((n) => el('div', { class: `node cap${n.state === 'UP' ? '' : ' off'}`, 'data-node': n.name },
      el('span', { class: 'name', title: n.state }, n.name),
      el('div', {}, el('label', {}, `${n.freeCpus} of ${n.cpus} cpus free`), bar(n.cpus - n.freeCpus, n.cpus, 'cpus in use')),
      el('div', {}, el('label', {}, `${bytes(n.freeMemoryMiB * 1048576)} of ${bytes(n.memoryMiB * 1048576)} free`), bar(n.memoryMiB - n.freeMemoryMiB, n.memoryMiB, 'memory in use')),
    )),
  )));
  if (state.sites.length === 0) root.replaceChildren(el('p', { class: 'empty' }, 'no site has registered yet'));
}

function transferRow(t) {
  const pct = t.bytesTotal > 0 ? Math.round((100 * t.bytesDone) / t.bytesTotal) : 0;
  const rate = t.rateBps > 0 ? ` at ${bytes(t.rateBps)}/s` : '';
  const eta = t.etaMs > 0 ? `, ${duration(t.etaMs)} left` : '';
  return el('div', { class: 'transfer', 'data-transfer': t.snapshot, 'data-site': t.site },
    el('div', {}, el('span', { class: 'mono' }, t.snapshot), ` → ${t.site}: ${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)} (${pct}%)${rate}${eta}`, el('div', { class: 'what' }, t.reason)),
    bar(t.bytesDone, t.bytesTotal, `${pct}%`),
  );
}

function renderMoves() {
  const root = document.getElementById('moves');
  const moving = state.jobs.filter((j) => j.move);
  const rows = moving.map((j) => el('div', { class: 'move', 'data-move': j.id },
    el('div', {}, el('span', { class: 'route' }, `${j.name} (${j.id}): ${j.move.from} → ${j.move.to}`), ' ', badge(j.state), ` phase ${j.move.phase}`),
    state.transfers.filter((t) => t.job === j.id).map(transferRow),
  ));
  const others = state.transfers.filter((t) => !moving.some((j) => j.id === t.job));
  if (others.length) rows.push(el('div', { class: 'move' }, el('div', { class: 'route' }, 'background replication'), others.map(transferRow)));
  root.replaceChildren(...(rows.length ? rows : [el('p', { class: 'empty' }, 'none')]));
}

function renderJobs() {
  const body = document.querySelector('#jobs tbody');
  body.replaceChildren(...state.jobs.map((j) => {
    const last = j.history[j.history.length - 1];
    return el('tr', { 'data-job': j.id, 'data-state': j.state, 'data-site': j.site },
      el('td', { class: 'mono' }, j.id),
      el('td', {}, j.name),
      el('td', {}, j.owner),
      el('td', {}, badge(j.state)),
      el('td', { 'data-field': 'site' }, j.site || '—', j.move ? ` → ${j.move.to}` : ''),
      el('td', {}, j.vms.map((v) => el('span', { class: 'vm mono', 'data-vm': v.name }, `${v.name} ${v.node || '—'} ${v.ip || ''} ${v.state}`))),
      el('td', { class: 'reason' }, last ? `${clock(last.at)} ${last.reason}` : ''),
    );
  }));
  if (state.jobs.length === 0) body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'no job yet')));
}

/** The job's states over time, one coloured segment per state. */
function timeline(j) {
  const W = 460, H = 22;
  const start = Date.parse(j.history[0]?.at ?? j.createdAt);
  const ended = ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.state);
  const end = ended ? Date.parse(j.history[j.history.length - 1].at) : Date.parse(state.at);
  const span = Math.max(1, end - start);
  const svg = el('svg:svg', { viewBox: `0 0 ${W} ${H + 12}`, role: 'img', 'aria-label': `history of ${j.id}` });
  j.history.forEach((h, i) => {
    const t0 = Date.parse(h.at);
    const t1 = i + 1 < j.history.length ? Date.parse(j.history[i + 1].at) : end;
    const x = ((t0 - start) / span) * W;
    const w = Math.max(1.5, ((t1 - t0) / span) * W);
    svg.append(el('svg:rect', { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: H, class: `st-${h.state}` }, el('svg:title', {}, `${clock(h.at)} ${h.state}: ${h.reason}`)));
  });
  svg.append(el('svg:text', { x: 0, y: H + 11 }, clock(new Date(start).toISOString())), el('svg:text', { x: W, y: H + 11, 'text-anchor': 'end' }, ended ? clock(new Date(end).toISOString()) : 'now'));
  return svg;
}

/** Small bar chart: one bar per snapshot (`total` behind `part` if given). */
function chart(snaps, value, part, label, cls) {
  const W = 220, H = 60;
  const max = Math.max(1, ...snaps.map(value));
  const svg = el('svg:svg', { viewBox: `0 0 ${W} ${H + 12}`, role: 'img', 'aria-label': label });
  svg.append(el('svg:line', { x1: 0, y1: H, x2: W, y2: H, class: 'axis' }));
  const step = W / Math.max(snaps.length, 8);
  snaps.forEach((s, i) => {
    const h = (value(s) / max) * H;
    const title = el('svg:title', {}, `${s.id} (${s.kind}, ${clock(s.createdAt)}): ${part ? `${bytes(s.totalBytes)}, ${bytes(s.newBytes)} new` : `downtime ${s.downtimeMs} ms, pause skew ${s.pauseSkewMs} ms`}`);
    svg.append(el('svg:rect', { x: (i * step + 1).toFixed(1), y: (H - h).toFixed(1), width: (step - 2).toFixed(1), height: h.toFixed(1), class: cls, 'data-snapshot': s.id }, title));
    if (part) {
      const p = (part(s) / max) * H;
      svg.append(el('svg:rect', { x: (i * step + 1).toFixed(1), y: (H - p).toFixed(1), width: (step - 2).toFixed(1), height: p.toFixed(1), class: 'new' }, title.cloneNode(true)));
    }
  });
  svg.append(el('svg:text', { x: 0, y: H + 11 }, `max ${part ? bytes(max) : `${max} ms`}`));
  return svg;
}

function renderDetails() {
  const root = document.getElementById('details');
  const live = state.jobs.filter((j) => !['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.state));
  const shown = [...live, ...state.jobs.filter((j) => !live.includes(j)).slice(0, 5)];
  root.replaceChildren(...shown.map((j) => el('div', { class: 'card', 'data-detail': j.id },
    el('h3', {}, `${j.name} `, el('span', { class: 'mono' }, j.id), badge(j.state), el('span', { class: 'meta' }, j.site ? `on ${j.site}, ${j.subnet}` : '')),
    timeline(j),
    el('ul', { class: 'hist' }, [...j.history].reverse().slice(0, 12).map((h) => el('li', {}, el('time', {}, clock(h.at)), badge(h.state), ' ', h.reason))),
    j.snapshots.length
      ? el('div', { class: 'charts' },
        el('div', {}, el('h4', {}, `snapshot sizes (light: total, dark: new) · ${j.snapshots.length}`), chart(j.snapshots, (s) => s.totalBytes, (s) => s.newBytes, 'snapshot sizes', 'total')),
        el('div', {}, el('h4', {}, 'downtime per snapshot'), chart(j.snapshots, (s) => s.downtimeMs, null, 'snapshot downtimes', 'down')))
      : el('p', { class: 'empty' }, 'no snapshot yet'),
  )));
  if (shown.length === 0) root.replaceChildren(el('p', { class: 'empty' }, 'no job yet'));
}

function render() {
  renderSites();
  renderMoves();
  renderJobs();
  renderDetails();
  document.getElementById('updated').textContent = `as of ${clock(state.at)}`;
}

async function refresh() {
  const res = await fetch('/api/state', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /api/state: ${res.status}`);
  state = await res.json();
  render();
}

/** At most one read of the state per 200 ms however many events arrive. */
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    refresh().catch(showError);
  }, 200);
}

function showError(err) {
  const live = document.getElementById('live');
  live.textContent = `error: ${err.message}`;
  live.className = 'live off';
}

function activity(e) {
  if (e.type === 'transfer.progress') return; // the bars show those
  const what = [e.job, e.site, e.state !== 'JOB_STATE_UNSPECIFIED' ? e.state : '', e.vm].filter(Boolean).join(' ');
  const list = document.getElementById('activity');
  list.prepend(el('li', { 'data-type': e.type }, el('time', {}, clock(e.at)), `${e.type} ${what}: ${e.reason}`));
  while (list.children.length > MAX_ACTIVITY) list.lastChild.remove();
}

function connect() {
  const live = document.getElementById('live');
  const es = new EventSource('/api/events');
  es.onopen = () => {
    live.textContent = 'live';
    live.className = 'live';
    refreshSoon(); // whatever happened while disconnected
  };
  es.onerror = () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
  };
  es.onmessage = (m) => {
    const e = JSON.parse(m.data);
    activity(e);
    refreshSoon();
  };
}

refresh().catch(showError);
connect();
setInterval(refreshSoon, 5000); // heartbeat ages move on between events
