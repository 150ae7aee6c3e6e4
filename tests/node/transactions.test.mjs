// Multi-document transactions with the official Node.js driver: session.withTransaction commits
// on a replica set (one applyOps oplog entry) and through mongos across two shards (prepare and
// commitTransaction entries on each shard), and an aborted transaction leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { startReplSet, startShardedCluster } from './sandbox.mjs';

let set;
let cluster;

before(async () => {
  [set, cluster] = await Promise.all([startReplSet({ members: 3 }), startShardedCluster({ shards: 2, members: 1 })]);
});

after(async () => {
  cluster?.stop();
  await set?.stop();
});

async function oplogEntries(uri, filter) {
  const client = new MongoClient(uri);
  try {
    return await client.db('local').collection('oplog.rs').find(filter).sort({ $natural: 1 }).toArray();
  } finally {
    await client.close();
  }
}

test('withTransaction on a replica set commits both writes as one applyOps entry', async () => {
  const client = new MongoClient(set.uri);
  try {
    const accounts = client.db('bank').collection('accounts');
    await accounts.insertMany([{ _id: 'a', balance: 100 }, { _id: 'b', balance: 0 }]);
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await accounts.updateOne({ _id: 'a' }, { $inc: { balance: -30 } }, { session });
        await accounts.updateOne({ _id: 'b' }, { $inc: { balance: 30 } }, { session });
        const inside = await accounts.findOne({ _id: 'b' }, { session });
        assert.equal(inside.balance, 30, 'the transaction sees its own write');
        const outside = await accounts.findOne({ _id: 'b' });
        assert.equal(outside.balance, 0, 'nothing is visible outside before the commit');
      });
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await accounts.find().sort({ _id: 1 }).toArray(),
      [{ _id: 'a', balance: 70 }, { _id: 'b', balance: 30 }]);
    const entries = await oplogEntries(set.uri, { 'o.applyOps.ns': 'bank.accounts' });
    assert.equal(entries.length, 1, 'one applyOps entry for the transaction');
    assert.equal(entries[0].ns, 'admin.$cmd');
    assert.equal(entries[0].o.applyOps.length, 2);
    assert.ok(entries[0].lsid && entries[0].txnNumber !== undefined, 'the entry names the session');
    assert.equal(entries[0].prevOpTime.t, -1);
  } finally {
    await client.close();
  }
});

test('an aborted transaction on a replica set leaves nothing', async () => {
  const client = new MongoClient(set.uri);
  try {
    const coll = client.db('abort_rs').collection('c');
    await coll.insertOne({ _id: 'seed' });
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 'ghost' }, { session });
      await coll.deleteOne({ _id: 'seed' }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await coll.find().toArray(), [{ _id: 'seed' }]);
    assert.equal((await oplogEntries(set.uri, { 'o.applyOps.ns': 'abort_rs.c' })).length, 0);
  } finally {
    await client.close();
  }
});

// A collection sharded on {k: 1} with k < 0 on shard0 and k >= 0 on shard1 (the balancer stopped
// first: it would move the split's second chunk on its own).
async function shardAcrossBoth(client, db, coll) {
  const admin = client.db('admin');
  await admin.command({ balancerStop: 1 });
  await admin.command({ enableSharding: db, primaryShard: 'shard0' });
  await admin.command({ shardCollection: `${db}.${coll}`, key: { k: 1 } });
  await admin.command({ split: `${db}.${coll}`, middle: { k: 0 } });
  await admin.command({ moveChunk: `${db}.${coll}`, find: { k: 0 }, to: 'shard1', _waitForDelete: true });
  return client.db(db).collection(coll);
}

test('withTransaction through mongos across two shards: prepare then commit on each', async () => {
  const client = new MongoClient(cluster.mongos_uri);
  try {
    const coll = await shardAcrossBoth(client, 'xshard', 'items');
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.insertOne({ _id: 'low', k: -5 }, { session });
        await coll.insertOne({ _id: 'high', k: 5 }, { session });
        assert.equal(await coll.countDocuments({}, { session }), 2, 'the transaction sees both writes');
        assert.equal(await coll.countDocuments({}), 0, 'nothing is visible outside before the commit');
      });
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await coll.find().sort({ k: 1 }).toArray(), [{ _id: 'low', k: -5 }, { _id: 'high', k: 5 }]);
    for (const [index, id] of [[0, 'low'], [1, 'high']]) {
      const uri = cluster.shards.find((shard) => shard.name === `shard${index}`).uri;
      const prepares = await oplogEntries(uri, { 'o.prepare': true, 'o.applyOps.ns': 'xshard.items' });
      assert.equal(prepares.length, 1, `one prepare entry on shard${index}`);
      assert.deepEqual(prepares[0].o.applyOps.map((op) => op.o._id), [id]);
      const commits = await oplogEntries(uri, { 'o.commitTransaction': 1, 'prevOpTime.ts': prepares[0].ts });
      assert.equal(commits.length, 1, `one commitTransaction entry after the prepare on shard${index}`);
    }
  } finally {
    await client.close();
  }
});

test('an aborted transaction through mongos leaves nothing on either shard', async () => {
  const client = new MongoClient(cluster.mongos_uri);
  try {
    const coll = await shardAcrossBoth(client, 'xabort', 'items');
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 'low', k: -1 }, { session });
      await coll.insertOne({ _id: 'high', k: 1 }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    assert.equal(await coll.countDocuments({}), 0);
  } finally {
    await client.close();
  }
});
