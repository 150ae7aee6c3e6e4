// Causal consistency with the official Node.js driver: a causally consistent session learns
// operationTime and $clusterTime from the sandbox's replies (through mongos and from a replica
// set), and its reads on secondaries, which carry readConcern.afterClusterTime, see its writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, Timestamp } from 'mongodb';
import { startReplSet, startShardedCluster } from './sandbox.mjs';

// Writes that secondaries have not necessarily applied when acknowledged, each read back at once
// from a secondary in the same session: only waiting for afterClusterTime makes every read see
// its write.
const kRounds = 20;

let cluster;
let set;

before(async () => {
  [cluster, set] = await Promise.all([startShardedCluster({ shards: 1, members: 3 }), startReplSet({ members: 3 })]);
});

after(async () => {
  cluster?.stop();
  await set?.stop();
});

// The finds a client sent, as command monitoring saw them.
function recordFinds(client) {
  const finds = [];
  client.on('commandStarted', (event) => {
    if (event.commandName === 'find') finds.push(event.command);
  });
  return finds;
}

async function insertOplogTs(uri, ns, id) {
  const shard = new MongoClient(uri);
  try {
    const entry = await shard.db('local').collection('oplog.rs').findOne({ ns, op: 'i', 'o._id': id });
    return entry?.ts;
  } finally {
    await shard.close();
  }
}

async function readYourWritesOnSecondaries(client, collection) {
  const session = client.startSession({ causalConsistency: true });
  try {
    for (let i = 0; i < kRounds; i++) {
      await collection.insertOne({ _id: i }, { session });
      const seen = await collection.findOne({ _id: i }, { session, readPreference: 'secondary' });
      assert.deepEqual(seen, { _id: i }, `round ${i}: the secondary read missed the session's write`);
    }
    return session.operationTime;
  } finally {
    await session.endSession();
  }
}

test('a causally consistent session through mongos learns operationTime and clusterTime', async () => {
  const client = new MongoClient(cluster.mongos_uri, { monitorCommands: true });
  try {
    const session = client.startSession({ causalConsistency: true });
    assert.equal(session.operationTime, undefined);
    await client.db('causal').collection('c').insertOne({ _id: 'first' }, { session });
    assert.ok(session.operationTime instanceof Timestamp, 'session.operationTime is set');
    assert.ok(session.clusterTime?.clusterTime instanceof Timestamp, 'session.clusterTime is set');
    assert.ok(session.clusterTime.clusterTime.greaterThanOrEqual(session.operationTime));
    const ts = await insertOplogTs(cluster.shards[0].uri, 'causal.c', 'first');
    assert.ok(ts, 'the insert is in the shard oplog');
    assert.ok(session.operationTime.equals(ts), `operationTime ${session.operationTime} is the oplog ts ${ts}`);
    await session.endSession();
  } finally {
    await client.close();
  }
});

test('through mongos, secondary reads in a causally consistent session see its writes', async () => {
  const client = new MongoClient(cluster.mongos_uri, { monitorCommands: true });
  const finds = recordFinds(client);
  try {
    const last = await readYourWritesOnSecondaries(client, client.db('causal').collection('mongos'));
    assert.equal(finds.length, kRounds);
    const lastFind = finds.at(-1);
    assert.equal(lastFind.$readPreference?.mode, 'secondary');
    assert.ok(lastFind.readConcern?.afterClusterTime instanceof Timestamp, 'reads send afterClusterTime');
    assert.ok(last.greaterThanOrEqual(lastFind.readConcern.afterClusterTime));
  } finally {
    await client.close();
  }
});

test('on a replica set, secondary reads in a causally consistent session see its writes', async () => {
  const client = new MongoClient(set.uri, { monitorCommands: true });
  const finds = recordFinds(client);
  try {
    await readYourWritesOnSecondaries(client, client.db('causal').collection('replset'));
    assert.equal(finds.length, kRounds);
    assert.ok(finds.every((find) => find.readConcern?.afterClusterTime instanceof Timestamp));
  } finally {
    await client.close();
  }
});
