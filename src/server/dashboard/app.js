// The shardsafe dashboard: clusters with their backups and restorable windows, jobs with live
// per-replica-set progress, and buttons to back up and restore. Talks to /api/v1 with the
// bearer token the user enters (kept in sessionStorage for this tab only).
'use strict';

const state = { token: sessionStorage.getItem('shardsafe-token') || '', clusters: [], listings: {}, selectedJob: null, lastFinished: '' };
const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

async function api(method, path, body) {
  const response = await fetch('/api/v1' + path, {
    method,
    headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message || answer.error || response.statusText);
  return answer;
}

function confirmAction(text) {
  $('confirm-text').textContent = text;
  $('confirm').showModal();
  return new Promise((resolve) => $('confirm').addEventListener('close', () => resolve($('confirm').returnValue === 'ok'), { once: true }));
}

function humanBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function seconds(timestamp) { return Number(String(timestamp.ts).split('.')[0]); }
function backupSeconds(backup) { return seconds({ ts: backup.consistency_point }); }

// The timeline: restorable windows (green), gaps (red), and each backup as a mark.
function timeline(listing) {
  const width = 1000, height = 70;
  const chart = svg('svg', { class: 'timeline', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none' });
  const backups = listing.backups.filter((backup) => !backup.problem);
  const times = backups.map(backupSeconds);
  for (const window of listing.timeline.windows) times.push(seconds(window.from), seconds(window.to));
  if (!times.length) return chart;
  const now = Date.now() / 1000;
  const start = Math.min(...times) - 60, end = Math.max(now, ...times) + 60;
  const x = (time) => ((time - start) / (end - start)) * width;
  for (const window of listing.timeline.windows) {
    const left = x(seconds(window.from));
    const bar = svg('rect', { class: 'window', x: left, y: 20, width: Math.max(3, x(seconds(window.to)) - left), height: 24 });
    bar.append(Object.assign(svg('title'), { textContent: `restorable from ${window.from.time} to ${window.to.time} (base ${window.base_backup})` }));
    chart.append(bar);
  }
  for (const gap of listing.timeline.gaps) {
    const left = x(seconds(gap.from));
    const bar = svg('rect', { class: 'gap', x: left, y: 20, width: Math.max(3, x(seconds(gap.to)) - left), height: 24 });
    bar.append(Object.assign(svg('title'), { textContent: 'gap: ' + gap.reason }));
    chart.append(bar);
  }
  for (const backup of backups) {
    const mark = svg('circle', { class: `backup ${backup.kind}`, 'data-id': backup.id, cx: x(backupSeconds(backup)), cy: 32, r: backup.kind === 'full' ? 7 : 4 });
    mark.append(Object.assign(svg('title'), { textContent: `${backup.id} (${backup.kind}, ${humanBytes(backup.stored_bytes)})` }));
    chart.append(mark);
  }
  chart.append(Object.assign(svg('text', { x: 4, y: 64 }), { textContent: new Date(start * 1000).toISOString() }));
  chart.append(Object.assign(svg('text', { x: width - 4, y: 64, 'text-anchor': 'end' }), { textContent: 'now' }));
  return chart;
}

function legend() {
  const swatch = (color, label) => [el('span', { class: 'swatch', style: `background:${color}` }), label];
  return el('div', { class: 'legend' }, ...swatch('#1f5fbf', 'full backup'), ...swatch('#7a8aa6', 'incremental'),
    ...swatch('#3aa76d', 'restorable window'), ...swatch('#d93f3f', 'gap'));
}

async function backUp(cluster, kind) {
  if (!(await confirmAction(`Take a ${kind} backup of cluster "${cluster.name}" (${cluster.uri}) now?`))) return;
  try {
    const { job } = await api('POST', `/clusters/${encodeURIComponent(cluster.name)}/backups`, { kind });
    state.selectedJob = job;
  } catch (error) { $('status').textContent = error.message; }
  refresh();
}

async function restore(cluster, select) {
  const backup = select.value;
  if (!backup) return;
  const text = `Restore backup ${backup} into cluster "${cluster.name}" (${cluster.uri})? Collections in the backup replace the ones there (--drop).`;
  if (!(await confirmAction(text))) return;
  try {
    const { job } = await api('POST', `/clusters/${encodeURIComponent(cluster.name)}/restores`, { backup, drop: true });
    state.selectedJob = job;
  } catch (error) { $('status').textContent = error.message; }
  refresh();
}

function clusterCard(cluster) {
  const listing = state.listings[cluster.name] || { backups: [], timeline: { windows: [], gaps: [] }, total: 0 };
  const schedule = Object.entries(cluster.schedule).map(([kind, s]) => `${kind} "${s.cron}" next ${s.next}`).join('; ') || 'no schedule';
  const busy = cluster.busy_job !== null;
  const full = el('button', { class: 'backup-now', 'data-kind': 'full' }, 'Back up now');
  const incremental = el('button', { class: 'secondary', 'data-kind': 'incremental' }, 'Incremental');
  const select = el('select', { class: 'restore-backup' }, el('option', { value: '' }, 'restore a backup…'));
  for (const backup of listing.backups.filter((b) => !b.problem)) select.append(el('option', { value: backup.id }, `${backup.id} (${backup.kind})`));
  const restoreButton = el('button', { class: 'secondary restore' }, 'Restore…');
  for (const button of [full, incremental, restoreButton]) button.disabled = busy;
  full.onclick = () => backUp(cluster, 'full');
  incremental.onclick = () => backUp(cluster, 'incremental');
  restoreButton.onclick = () => restore(cluster, select);
  return el('div', { class: 'cluster', 'data-cluster': cluster.name },
    el('h3', {}, cluster.name),
    el('div', { class: 'meta' }, `${cluster.uri} · ${listing.total} backups · ${schedule}${busy ? ` · busy with job ${cluster.busy_job}` : ''}`),
    timeline(listing), legend(),
    el('div', { class: 'actions' }, full, incremental, select, restoreButton));
}

function progressText(job) {
  const sets = (job.progress && job.progress.replica_sets) || [];
  if (!sets.length) return job.progress && job.progress.phase ? job.progress.phase : '';
  return sets.map((set) => `${set.name}: ${set.phase || set.state} ${set.documents} docs`).join(' · ');
}

function renderJobs(jobs) {
  const body = $('jobs').querySelector('tbody');
  body.replaceChildren(...jobs.map((job) => {
    const row = el('tr', { class: 'job', 'data-job': job.id },
      el('td', {}, String(job.id)), el('td', {}, job.cluster), el('td', {}, job.kind),
      el('td', { class: `state state-${job.state}` }, job.state), el('td', {}, job.started_at), el('td', { class: 'progress' }, progressText(job)));
    row.onclick = () => { state.selectedJob = job.id; refresh(); };
    return row;
  }));
}

async function renderJobDetail() {
  if (state.selectedJob === null) return;
  const job = await api('GET', `/jobs/${state.selectedJob}`);
  $('job-detail').hidden = false;
  $('job-detail-id').textContent = `${job.id}: ${job.kind} of ${job.cluster}, ${job.state}`;
  $('job-detail').dataset.state = job.state;
  $('job-detail-error').textContent = job.error ? `${job.error.error}: ${job.error.message}` : '';
  const sets = (job.progress && job.progress.replica_sets) || [];
  $('job-detail-sets').querySelector('tbody').replaceChildren(...sets.map((set) => el('tr', {},
    el('td', {}, set.name), el('td', {}, set.runs_on), el('td', {}, set.state), el('td', {}, set.phase),
    el('td', {}, String(set.documents)), el('td', {}, humanBytes(set.bytes)))));
  $('job-detail-log').textContent = job.log.join('\n');
  $('job-cancel').hidden = job.state !== 'running' && job.state !== 'queued';
  $('job-cancel').onclick = async () => {
    if (!(await confirmAction(`Cancel job ${job.id} (${job.kind} of cluster "${job.cluster}")? A restore rolls back; a backup removes what it wrote.`))) return;
    await api('DELETE', `/jobs/${job.id}`);
    refresh();
  };
}

async function refresh() {
  try {
    const [{ clusters }, { jobs }] = await Promise.all([api('GET', '/clusters'), api('GET', '/jobs?limit=20')]);
    const finished = jobs.filter((job) => job.state !== 'running' && job.state !== 'queued').map((job) => job.id).join(',');
    const reload = finished !== state.lastFinished || !Object.keys(state.listings).length;
    state.lastFinished = finished;
    if (reload) {
      for (const cluster of clusters) state.listings[cluster.name] = await api('GET', `/clusters/${encodeURIComponent(cluster.name)}/backups?limit=1000`);
    }
    state.clusters = clusters;
    $('clusters').replaceChildren(...clusters.map(clusterCard));
    renderJobs(jobs);
    await renderJobDetail();
    $('status').textContent = `updated ${new Date().toISOString()}`;
  } catch (error) {
    $('status').textContent = error.message;
  }
}

async function logIn(token) {
  state.token = token;
  try {
    await api('GET', '/clusters');
  } catch (error) {
    $('login-error').textContent = error.message;
    return;
  }
  sessionStorage.setItem('shardsafe-token', token);
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  await refresh();
  setInterval(refresh, 1000);
}

$('login').addEventListener('submit', (event) => { event.preventDefault(); logIn($('token').value); });
$('logout').addEventListener('click', () => { sessionStorage.removeItem('shardsafe-token'); location.reload(); });
if (state.token) logIn(state.token);
