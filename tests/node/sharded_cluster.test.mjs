// Conformance of the sandbox's sharded cluster with the official Node.js driver through mongos:
// sharding metadata shapes, data placement that matches config.chunks on every shard,
// targeted and scatter-gather queries, and a balancer that moves chunks only while running.
// With SHARDSAFE_MONGOD and SHARDSAFE_MONGOS set, the same tests run on real MongoDB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, Binary, Timestamp, ObjectId } from 'mongodb';
import { startShardedCluster as startCluster } from './sandbox.mjs';

async function until(what, condition, deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

let cluster;
let client;

before(async () => {
  cluster = await startCluster({ shards: 2, members: 1 });
  client = new MongoClient(cluster.mongos_uri);
  await client.connect();
});

after(async () => {
  await client?.close();
  cluster?.stop();
});

const admin = () => client.db('admin');
const config = () => client.db('config');

async function chunksOf(ns) {
  const entry = await config().collection('collections').findOne({ _id: ns });
  assert.ok(entry, `config.collections has ${ns}`);
  return config().collection('chunks').find({ uuid: entry.uuid }).sort({ min: 1 }).toArray();
}

// Connects straight to a shard's replica set (its primary), bypassing mongos.
async function withShard(name, fn) {
  const shard = cluster.shards.find((s) => s.name === name);
  const direct = new MongoClient(shard.uri);
  try {
    await direct.connect();
    return await fn(direct);
  } finally {
    await direct.close();
  }
}

function inChunk(k, chunk) {
  const aboveMin = chunk.min.k?._bsontype === 'MinKey' || k >= chunk.min.k;
  const belowMax = chunk.max.k?._bsontype === 'MaxKey' || k < chunk.max.k;
  return aboveMin && belowMax;
}

// Every shard holds exactly the documents whose key lies in the chunks config.chunks gives it.
async function assertPlacementMatchesChunks(dbName, collName, total) {
  const chunks = await chunksOf(`${dbName}.${collName}`);
  let seen = 0;
  for (const shard of cluster.shards) {
    const owned = chunks.filter((c) => c.shard === shard.name);
    const keys = await withShard(shard.name, (direct) =>
      direct.db(dbName).collection(collName).find({}, { projection: { _id: 0, k: 1 } }).toArray());
    for (const { k } of keys) {
      assert.ok(owned.some((c) => inChunk(k, c)), `${shard.name} holds k=${k} outside its chunks`);
    }
    seen += keys.length;
  }
  assert.equal(seen, total, 'every document is on exactly one shard');
}

test('mongos answers hello as a router', async () => {
  const hello = await admin().command({ hello: 1 });
  assert.equal(hello.msg, 'isdbgrid');
  assert.equal(hello.isWritablePrimary, true);
  assert.equal(hello.setName, undefined);
  assert.equal(hello.hosts, undefined);
});

test('listShards, getShardMap and config.* have the documented shapes', async () => {
  const { shards } = await admin().command({ listShards: 1 });
  assert.deepEqual(shards.map((s) => s._id).sort(), ['shard0', 'shard1']);
  for (const shard of shards) {
    assert.match(shard.host, new RegExp(`^${shard._id}/127\\.0\\.0\\.1:\\d+(,127\\.0\\.0\\.1:\\d+)*$`));
    assert.equal(shard.state, 1);
  }
  const { map } = await admin().command({ getShardMap: 1 });
  assert.match(map.shard0, /^shard0\/127\.0\.0\.1:\d+/);
  assert.match(map.shard1, /^shard1\/127\.0\.0\.1:\d+/);
  assert.match(map.config, /^cfg\/127\.0\.0\.1:\d+/);
  const options = await admin().command({ getCmdLineOpts: 1 });
  assert.equal(options.parsed.sharding.configDB, map.config);

  await admin().command({ enableSharding: 'shapes' });
  await admin().command({ shardCollection: 'shapes.c', key: { a: 1, b: 1 } });
  const database = await config().collection('databases').findOne({ _id: 'shapes' });
  assert.ok(['shard0', 'shard1'].includes(database.primary));
  assert.ok(database.version.uuid instanceof Binary);
  assert.ok(database.version.timestamp instanceof Timestamp);
  assert.equal(typeof database.version.lastMod, 'number');

  const collection = await config().collection('collections').findOne({ _id: 'shapes.c' });
  assert.deepEqual(collection.key, { a: 1, b: 1 });
  assert.ok(collection.uuid instanceof Binary);
  assert.ok(collection.lastmodEpoch instanceof ObjectId);
  assert.ok(collection.lastmod instanceof Date);
  assert.ok(collection.timestamp instanceof Timestamp);
  assert.equal(collection.unique, false);

  const [chunk, ...others] = await chunksOf('shapes.c');
  assert.equal(others.length, 0);
  assert.equal(chunk.min.a._bsontype, 'MinKey');
  assert.equal(chunk.min.b._bsontype, 'MinKey');
  assert.equal(chunk.max.a._bsontype, 'MaxKey');
  assert.equal(chunk.shard, database.primary);
  assert.ok(chunk.lastmod instanceof Timestamp);
  assert.ok(chunk.onCurrentShardSince instanceof Timestamp);
  assert.ok(Array.isArray(chunk.history) && chunk.history[0].shard === database.primary);

  await admin().command({ balancerStop: 1 });
  const balancer = await config().collection('settings').findOne({ _id: 'balancer' });
  assert.equal(balancer.stopped, true);
  assert.equal((await admin().command({ balancerStatus: 1 })).mode, 'off');
  const version = await config().collection('version').findOne({});
  assert.ok(version.clusterId instanceof ObjectId);
});

test('100k documents spread by split and moveChunk sit exactly where config.chunks says', async () => {
  await admin().command({ balancerStop: 1 });
  await admin().command({ enableSharding: 'placement' });
  await admin().command({ shardCollection: 'placement.items', key: { k: 1 } });
  const items = client.db('placement').collection('items');
  const total = 100000;
  for (let start = 0; start < total; start += 10000) {
    const batch = [];
    for (let i = start; i < start + 10000; i++) batch.push({ _id: i, k: i, g: i % 4 });
    await items.insertMany(batch, { ordered: false });
  }
  for (const middle of [25000, 50000, 75000]) {
    await admin().command({ split: 'placement.items', middle: { k: middle } });
  }
  const { primary } = await config().collection('databases').findOne({ _id: 'placement' });
  const other = primary === 'shard0' ? 'shard1' : 'shard0';
  for (const k of [25000, 75000]) {
    await admin().command({ moveChunk: 'placement.items', find: { k }, to: other, _waitForDelete: true });
  }
  const chunks = await chunksOf('placement.items');
  assert.equal(chunks.length, 4);
  assert.deepEqual(chunks.map((c) => c.shard), [primary, other, primary, other]);
  assert.equal(await items.countDocuments(), total);
  await assertPlacementMatchesChunks('placement', 'items', total);
  for (const shard of [primary, other]) {
    const count = await withShard(shard, (direct) => direct.db('placement').collection('items').countDocuments());
    assert.equal(count, total / 2, `${shard} holds half of the documents`);
  }
});

test('targeted and scatter-gather queries return the same results', async () => {
  const items = client.db('placement').collection('items');
  for (const k of [0, 24999, 25000, 62500, 99999]) {
    const targeted = await items.findOne({ k });
    const scattered = await items.findOne({ _id: k });
    assert.deepEqual(targeted, { _id: k, k, g: k % 4 });
    assert.deepEqual(scattered, targeted);
  }
  const across = await items.find({ k: { $gte: 24990, $lt: 25010 } }).sort({ k: 1 }).toArray();
  assert.deepEqual(across.map((d) => d.k), Array.from({ length: 20 }, (_, i) => 24990 + i));
  const top = await items.find({}, { projection: { _id: 0, k: 1 } }).sort({ k: -1 }).limit(5).toArray();
  assert.deepEqual(top, [99999, 99998, 99997, 99996, 99995].map((k) => ({ k })));
  const middle = await items.find({}).sort({ k: 1 }).skip(49998).limit(4).toArray();
  assert.deepEqual(middle.map((d) => d.k), [49998, 49999, 50000, 50001]);
  assert.equal(await items.countDocuments({ k: { $lt: 50000 } }), 50000);
  assert.equal(await items.countDocuments({ g: 3 }), 25000);
  const groups = await items.aggregate([{ $match: { k: { $gte: 10000 } } },
    { $group: { _id: '$g', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
  assert.deepEqual(groups, [0, 1, 2, 3].map((g) => ({ _id: g, n: 22500 })));
  let streamed = 0;
  for await (const doc of items.find({ g: 1 }).batchSize(1000)) {
    assert.equal(doc.k % 4, 1);
    streamed++;
  }
  assert.equal(streamed, 25000);
  const updated = await items.updateMany({ k: { $gte: 49990, $lt: 50010 } }, { $set: { touched: true } });
  assert.equal(updated.modifiedCount, 20);
  assert.equal(await items.countDocuments({ touched: true }), 20);
  assert.deepEqual((await items.distinct('g')).sort(), [0, 1, 2, 3]);
  assert.deepEqual(await items.distinct('k', { k: { $in: [10, 60000, 10] } }), [10, 60000]);
  const byKey = await items.findOneAndUpdate({ k: 60001 }, { $set: { found: 'by key' } }, { returnDocument: 'after' });
  assert.equal(byKey.found, 'by key');
  const byId = await items.findOneAndUpdate({ _id: 30001 }, { $set: { found: 'by id' } }, { returnDocument: 'after' });
  assert.equal(byId.k, 30001);
  assert.equal(byId.found, 'by id');
  const deleted = await items.deleteOne({ _id: 77777 });
  assert.equal(deleted.deletedCount, 1);
  assert.equal(await items.countDocuments(), 99999);
});

test('the balancer moves chunks only while it is running', async () => {
  await admin().command({ balancerStop: 1 });
  // Real 7.0 balances by data size: a 1 MB chunk size makes this data (~6 MB) worth balancing.
  await config().collection('settings').updateOne({ _id: 'chunksize' }, { $set: { value: 1 } }, { upsert: true });
  await admin().command({ enableSharding: 'balance' });
  await admin().command({ shardCollection: 'balance.docs', key: { k: 1 } });
  const docs = client.db('balance').collection('docs');
  const total = 8000;
  const pad = 'p'.repeat(700);
  for (let start = 0; start < total; start += 2000) {
    await docs.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: start + i, k: start + i, pad })));
  }
  for (let middle = 1000; middle < total; middle += 1000) {
    await admin().command({ split: 'balance.docs', middle: { k: middle } });
  }
  const perShard = async () => {
    const counts = Object.fromEntries(cluster.shards.map((s) => [s.name, 0]));
    for (const chunk of await chunksOf('balance.docs')) counts[chunk.shard]++;
    return Object.values(counts);
  };
  assert.deepEqual((await perShard()).sort(), [0, 8]);

  // Stopped: several balancer rounds' worth of time pass without a move.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.deepEqual((await perShard()).sort(), [0, 8], 'no chunk moved while the balancer was stopped');

  await admin().command({ balancerStart: 1 });
  assert.equal((await admin().command({ balancerStatus: 1 })).mode, 'full');
  await until('chunk counts to even out', async () => {
    const counts = await perShard();
    return Math.min(...counts) > 0 && Math.max(...counts) - Math.min(...counts) <= 2;
  }, 120000);
  await admin().command({ balancerStop: 1 });
  await assertPlacementMatchesChunks('balance', 'docs', total);
  assert.equal(await docs.countDocuments(), total);
});

test('dropDatabase through mongos removes data and metadata everywhere', async () => {
  await admin().command({ enableSharding: 'gone' });
  await admin().command({ shardCollection: 'gone.c', key: { k: 1 } });
  await client.db('gone').collection('c').insertMany([{ k: 1 }, { k: 2 }]);
  await client.db('gone').dropDatabase();
  assert.equal(await config().collection('collections').countDocuments({ _id: 'gone.c' }), 0);
  assert.equal(await config().collection('databases').countDocuments({ _id: 'gone' }), 0);
  const { databases } = await admin().command({ listDatabases: 1 });
  assert.ok(!databases.some((d) => d.name === 'gone'));
  assert.ok(databases.some((d) => d.name === 'placement'));
});

test('a 2-shard x 3-member cluster with a config server and mongos starts quickly', async () => {
  const started = Date.now();
  const big = await startCluster({ shards: 2, members: 3, configMembers: 1 });
  const seconds = (Date.now() - started) / 1000;
  try {
    console.log(`2x3 sharded cluster started in ${seconds.toFixed(1)} s`);
    assert.equal(big.shards.length, 2);
    assert.equal(big.shards[0].members.length, 3);
    const probe = new MongoClient(big.mongos_uri);
    await probe.connect();
    assert.equal((await probe.db('admin').command({ listShards: 1 })).shards.length, 2);
    await probe.close();
    assert.ok(seconds < 30, `start-up took ${seconds} s`);
  } finally {
    big.stop();
  }
});
