// Test fixture for node tests: starts a sandbox replica set (or real mongod binaries when
// SHARDSAFE_MONGOD names one) with `shardsafe-sandbox up` on free loopback ports, and stops it.
// The twin of tests/support/sandbox.h.
import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function buildDir() {
  const dir = process.env.SHARDSAFE_BUILD_DIR;
  if (!dir) throw new Error('SHARDSAFE_BUILD_DIR is not set (run the tests through ctest)');
  return dir;
}

function sandboxBinary() {
  return path.join(buildDir(), 'shardsafe-sandbox');
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// A base port P with P..P+count-1 free now (outside the kernel's ephemeral range).
async function freePortRange(count) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 31000 + Math.floor(Math.random() * 9000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await portIsFree(base + i);
    if (free) return base;
  }
  throw new Error(`no free range of ${count} loopback ports`);
}

export class SandboxReplSet {
  constructor(dir, tempRoot, cluster) {
    this.dir = dir;
    this.tempRoot = tempRoot;
    this.uri = cluster.uri;
    this.hosts = cluster.members.map((m) => m.host);
  }

  // mongodb://127.0.0.1:P+i/?directConnection=true
  memberUri(i) {
    return `mongodb://${this.hosts[i]}/?directConnection=true`;
  }

  async kill(i) {
    await run(sandboxBinary(), ['kill', '--dir', this.dir, '--member', String(i)]);
  }

  async restart(i) {
    await run(sandboxBinary(), ['restart', '--dir', this.dir, '--member', String(i)], { timeout: 60000 });
  }

  async stop() {
    try {
      await run(sandboxBinary(), ['down', '--dir', this.dir], { timeout: 60000 });
    } finally {
      await rm(this.tempRoot, { recursive: true, force: true });
    }
  }
}

// Starts a replica set and resolves once it has a primary.
export async function startReplSet({ name = 'rs0', members = 1, oplogSizeMb = 64 } = {}) {
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'shardsafe-node-'));
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = path.join(tempRoot, `set-${attempt}`);
    const port = await freePortRange(members);
    const args = ['up', '--dir', dir, '--replset', name, '--members', String(members), '--port', String(port),
      '--oplog-size-mb', String(oplogSizeMb)];
    if (process.env.SHARDSAFE_MONGOD) args.push('--mongod', process.env.SHARDSAFE_MONGOD);
    try {
      const { stdout } = await run(sandboxBinary(), args, { timeout: 120000 });
      return new SandboxReplSet(dir, tempRoot, JSON.parse(stdout));
    } catch (error) {
      lastError = error;  // most likely a port taken meanwhile: try another range
    }
  }
  await rm(tempRoot, { recursive: true, force: true });
  throw new Error(`could not start a sandbox replica set: ${lastError?.stderr ?? lastError}`);
}

// Starts a sharded cluster (config server set, shard sets, one mongos; real binaries when
// SHARDSAFE_MONGOD and SHARDSAFE_MONGOS both name one) with `shardsafe-sandbox up --shards`.
// Resolves to the launcher's JSON ({mongos_uri, config, shards: [{name, uri, members}]}) plus a
// synchronous stop().
export async function startShardedCluster({ shards = 2, members = 1, configMembers = 1 } = {}) {
  const realBinaries = process.env.SHARDSAFE_MONGOD && process.env.SHARDSAFE_MONGOS
    ? ['--mongod', process.env.SHARDSAFE_MONGOD, '--mongos', process.env.SHARDSAFE_MONGOS] : [];
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'shardsafe-node-cluster-'));
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = path.join(tempRoot, `attempt${attempt}`);
    const port = await freePortRange(1 + configMembers + shards * members);
    const args = ['up', '--dir', dir, '--shards', String(shards), '--members', String(members),
      '--config-members', String(configMembers), '--port', String(port), ...realBinaries];
    try {
      const { stdout } = await run(sandboxBinary(), args, { timeout: 120000 });
      const cluster = JSON.parse(stdout);
      cluster.stop = () => {
        execFileSync(sandboxBinary(), ['down', '--dir', dir], { stdio: 'ignore' });
        rmSync(tempRoot, { recursive: true, force: true });
      };
      return cluster;
    } catch (error) {
      lastError = error;  // most likely a port taken meanwhile: try another range
    }
  }
  await rm(tempRoot, { recursive: true, force: true });
  throw new Error(`shardsafe-sandbox up failed: ${lastError?.stderr ?? lastError}`);
}
