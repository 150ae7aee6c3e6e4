// The dashboard in Debian's headless chromium (puppeteer-core), against a real `shardsafe
// server` backing up a sandbox replica set to file:// storage: log in with the token, back up
// now, watch the job's per-replica-set progress reach "succeeded", see the backup on the
// cluster's timeline, and restore it. Saves <build>/test-artifacts/dashboard.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';
import { MongoClient } from 'mongodb';
import { buildDir, startReplSet } from './sandbox.mjs';

const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
let set, dir, server, baseUrl, browser;
const token = `dashboard-token-${process.pid}-${Date.now()}`;

// Starts `shardsafe server` and resolves with its base URL once it prints where it listens.
function startServer(configPath, logPath) {
  const child = spawn(path.join(buildDir(), 'shardsafe'), ['--json', 'server', '--config', configPath],
    { stdio: ['ignore', 'pipe', openSync(logPath, 'a')] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`shardsafe server exited with ${code} (see ${logPath})`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve([child, `http://${JSON.parse(line).listening}`]));
  });
}

before(async () => {
  set = await startReplSet();
  const client = new MongoClient(set.uri);
  await client.db('shop').collection('items').insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: i, name: `item ${i}` })));
  await client.close();
  dir = mkdtempSync(path.join(os.tmpdir(), 'shardsafe-dashboard-'));
  writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'server.yaml'), [
    'server:', '  listen: 127.0.0.1:0', `  token_file: ${path.join(dir, 'token')}`, `  data_dir: ${path.join(dir, 'data')}`,
    'storage:', `  url: file://${path.join(dir, 'storage')}`,
    'clusters:', '  prod:', `    uri: "${set.uri}"`, '    schedule: {full: "0 2 * * *"}', ''].join('\n'));
  [server, baseUrl] = await startServer(path.join(dir, 'server.yaml'), path.join(dir, 'server.log'));
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'chromium')}`],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await set?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('log in, back up now, watch the job finish and see the backup on the timeline', async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const failures = [];
  page.on('pageerror', (error) => failures.push(error.message));
  await page.goto(baseUrl + '/', { waitUntil: 'networkidle0' });

  // A wrong token is refused; the right one opens the dashboard.
  await page.type('#token', 'not-the-token');
  await page.click('#login-button');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('token'));
  await page.$eval('#token', (input) => { input.value = ''; });
  await page.type('#token', token);
  await page.click('#login-button');
  await page.waitForSelector('.cluster[data-cluster="prod"]');
  assert.equal(await page.$$eval('.cluster[data-cluster="prod"] .backup', (marks) => marks.length), 0);

  // Back up now: the confirmation names the cluster and its URI.
  await page.click('.cluster[data-cluster="prod"] button.backup-now');
  await page.waitForSelector('#confirm[open]');
  const question = await page.$eval('#confirm-text', (p) => p.textContent);
  assert.match(question, /full backup of cluster "prod"/);
  assert.ok(question.includes(set.uri.split('/?')[0].replace('mongodb://', '')), question);
  await page.click('#confirm-ok');

  // The job appears, its replica set's progress shows, and it finishes.
  await page.waitForSelector('#job-detail:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#job-detail-sets tbody tr').length > 0, { timeout: 60000 });
  assert.equal(await page.$eval('#job-detail-sets tbody tr td', (cell) => cell.textContent), 'rs0');
  await page.waitForFunction(() => document.querySelector('#job-detail').dataset.state === 'succeeded', { timeout: 120000 });
  const log = await page.$eval('#job-detail-log', (pre) => pre.textContent);
  assert.match(log, /started/);
  assert.match(log, /succeeded/);

  // The backup is on the timeline, with its restorable window.
  await page.waitForSelector('.cluster[data-cluster="prod"] circle.backup.full', { timeout: 30000 });
  assert.equal(await page.$$eval('.cluster[data-cluster="prod"] .timeline .window', (bars) => bars.length), 1);
  assert.equal(await page.$$eval('.cluster[data-cluster="prod"] .timeline .gap', (bars) => bars.length), 0);
  assert.equal(await page.$eval('tr.job td.state', (cell) => cell.textContent), 'succeeded');
  assert.equal(await page.$eval('#job-cancel', (button) => button.hidden), true, 'a finished job cannot be cancelled');

  // Restore it: the confirmation names the backup and the target cluster.
  const backupId = await page.$eval('.cluster[data-cluster="prod"] circle.backup.full', (mark) => mark.dataset.id);
  await page.select('.cluster[data-cluster="prod"] select.restore-backup', backupId);
  await page.click('.cluster[data-cluster="prod"] button.restore');
  await page.waitForSelector('#confirm[open]');
  const restoreQuestion = await page.$eval('#confirm-text', (p) => p.textContent);
  assert.ok(restoreQuestion.includes(`Restore backup ${backupId} into cluster "prod"`), restoreQuestion);
  await page.click('#confirm-ok');
  await page.waitForFunction(() => document.querySelector('#job-detail-id').textContent.includes('restore of prod'), { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#job-detail').dataset.state === 'succeeded', { timeout: 120000 });
  const client = new MongoClient(set.uri);
  assert.equal(await client.db('shop').collection('items').countDocuments(), 2000);
  await client.close();
  await page.click('tr.job[data-job="1"]');
  await page.waitForFunction(() => document.querySelector('#job-detail-id').textContent.startsWith('1: full of prod'));

  mkdirSync(path.join(buildDir(), 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(buildDir(), 'test-artifacts', 'dashboard.png'), fullPage: true });
  assert.deepEqual(failures, []);
});
