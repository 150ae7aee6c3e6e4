// The official MongoDB Node.js driver against a 3-member sandbox replica set: discovery from
// a seed list, CRUD, cursors, countDocuments, a $jsonSchema validator, tailing the oplog, and
// staying available across a step-down and a kill -9 of the primary.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MongoClient, Timestamp } from 'mongodb';
import { startReplSet } from './sandbox.mjs';

async function primaryIndex(set) {
  for (let i = 0; i < set.hosts.length; i++) {
    const client = new MongoClient(set.memberUri(i), { serverSelectionTimeoutMS: 2000 });
    try {
      const hello = await client.db('admin').command({ hello: 1 });
      if (hello.isWritablePrimary) return i;
    } catch {
      // a dead member
    } finally {
      await client.close();
    }
  }
  return -1;
}

describe('official Node.js driver against the sandbox', () => {
  let set;
  let client;

  before(async () => {
    set = await startReplSet({ members: 3 });
    client = new MongoClient(set.uri, { serverSelectionTimeoutMS: 30000 });
    await client.connect();
  });

  after(async () => {
    await client?.close();
    await set?.stop();
  });

  test('discovers the set from the seed list and finds the primary', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    assert.equal(hello.setName, 'rs0');
    assert.deepEqual([...hello.hosts].sort(), [...set.hosts].sort());
    assert.equal(hello.isWritablePrimary, true);
    assert.ok(set.hosts.includes(hello.primary));
  });

  test('CRUD, a cursor over several batches and countDocuments', async () => {
    const coll = client.db('conformance').collection('crud');
    const docs = Array.from({ length: 1234 }, (_, i) => ({ _id: i, group: i % 10, name: `doc-${i}` }));
    const inserted = await coll.insertMany(docs, { writeConcern: { w: 'majority' } });
    assert.equal(inserted.insertedCount, 1234);

    const seen = [];
    for await (const doc of coll.find({ group: { $in: [1, 2] } }, { batchSize: 25 }).sort({ _id: 1 })) seen.push(doc._id);
    assert.equal(seen.length, 248);
    assert.deepEqual(seen.slice(0, 4), [1, 2, 11, 12]);

    assert.equal(await coll.countDocuments({ group: 3 }), 124);
    assert.equal(await coll.estimatedDocumentCount(), 1234);

    const updated = await coll.updateMany({ group: 0 }, { $set: { zero: true } });
    assert.equal(updated.modifiedCount, 124);
    assert.equal((await coll.findOne({ _id: 10 })).zero, true);
    const replaced = await coll.replaceOne({ _id: 5 }, { name: 'five' });
    assert.equal(replaced.modifiedCount, 1);
    assert.deepEqual(await coll.findOne({ _id: 5 }), { _id: 5, name: 'five' });
    const removed = await coll.deleteMany({ group: 9 });
    assert.equal(removed.deletedCount, 123);
    await assert.rejects(coll.insertOne({ _id: 1 }), (error) => error.code === 11000);
  });

  test('a $jsonSchema validator: an invalid insertOne rejects with 121, a valid one succeeds', async () => {
    const db = client.db('conformance');
    const schema = { bsonType: 'object', required: ['name'], properties: { name: { bsonType: 'string' } } };
    await db.createCollection('validated', { validator: { $jsonSchema: schema } });
    const coll = db.collection('validated');
    await assert.rejects(coll.insertOne({ _id: 1, name: 42 }), (error) => {
      assert.equal(error.code, 121);
      assert.equal(error.errInfo?.failingDocumentId, 1);
      return true;
    });
    const inserted = await coll.insertOne({ _id: 2, name: 'ann' });
    assert.equal(inserted.insertedId, 2);
    assert.deepEqual(await coll.find().toArray(), [{ _id: 2, name: 'ann' }]);
    const [info] = await db.listCollections({ name: 'validated' }).toArray();
    assert.deepEqual(info.options.validator, { $jsonSchema: schema });
  });

  test('tails local.oplog.rs with a tailable awaitData cursor', async () => {
    const oplog = client.db('local').collection('oplog.rs');
    const [newest] = await oplog.find({}).sort({ $natural: -1 }).limit(1).toArray();
    const cursor = oplog.find({ ts: { $gt: newest.ts } }, { tailable: true, awaitData: true, maxAwaitTimeMS: 500 });
    const writer = client.db('conformance').collection('tail');
    await writer.insertOne({ _id: 'tailed' });
    const seen = [];
    for await (const entry of cursor) {
      if (entry.ns === 'conformance.tail') {
        seen.push(entry);
        break;
      }
    }
    await cursor.close();
    assert.equal(seen[0].op, 'i');
    assert.equal(seen[0].o._id, 'tailed');
    assert.ok(seen[0].ts instanceof Timestamp);
  });

  test('keeps working across replSetStepDown', async () => {
    const before = await primaryIndex(set);
    assert.ok(before >= 0);
    const direct = new MongoClient(set.memberUri(before));
    try {
      await direct.db('admin').command({ replSetStepDown: 20 });
    } finally {
      await direct.close();
    }
    const coll = client.db('conformance').collection('stepdown');
    await coll.insertOne({ _id: 'after-step-down' }, { writeConcern: { w: 'majority' } });
    assert.equal(await coll.countDocuments({}), 1);
    const now = await primaryIndex(set);
    assert.notEqual(now, before);
  });

  test('keeps every acknowledged write across kill -9 of the primary', async () => {
    const coll = client.db('conformance').collection('failover');
    for (let i = 0; i < 50; i++) await coll.insertOne({ _id: i }, { writeConcern: { w: 'majority' } });
    const victim = await primaryIndex(set);
    await set.kill(victim);
    // Wait for the election; the client still holds pooled connections to the dead primary,
    // so its next write fails once on them and is retried (retryable writes) on the new one.
    let survivor = -1;
    const deadline = Date.now() + 30000;
    while ((survivor < 0 || survivor === victim) && Date.now() < deadline) {
      survivor = await primaryIndex(set);
      if (survivor < 0 || survivor === victim) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(survivor >= 0 && survivor !== victim, 'a new primary was elected');
    let refusedConnects = 0;
    for (let i = 50; i < 60; i++) {
      const insert = () => coll.insertOne({ _id: i }, { writeConcern: { w: 'majority' } });
      try {
        await insert();
      } catch (error) {
        // The driver (6.x) retries writes that failed on an established connection, but not a
        // failure to open a new one to the dead member (its pooled sockets were closed by the
        // kill). That command never reached a server, so trying it once more is safe.
        assert.match(error.message, /ECONNREFUSED/);
        refusedConnects++;
        await insert();
      }
    }
    assert.ok(refusedConnects <= 1, 'at most the first write after the kill met the dead member');
    assert.equal(await coll.countDocuments({}), 60);
    await set.restart(victim);
  });
});
