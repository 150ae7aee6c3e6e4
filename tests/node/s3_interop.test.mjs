// Objects written by shardsafe's S3 driver are read by the official AWS SDK for JavaScript,
// and objects the SDK writes are read by shardsafe, through s3rver on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { runTool, sdkClient, startS3rver } from './s3_helpers.mjs';

const bucket = 'interop';
let server;
let s3;
let url;

before(async () => {
  server = await startS3rver(bucket);
  s3 = sdkClient(server.port);
  url = `s3://${bucket}/shardsafe?endpoint=http://127.0.0.1:${server.port}&path_style=true` +
    '&access_key=S3RVER&secret_key=S3RVER&upload_part_size=5242880';
});
after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function sdkGet(key) {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body.transformToByteArray());
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function toolOk(args, input) {
  const result = runTool(args, input);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('the SDK reads objects shardsafe wrote, single PUT and multipart', async () => {
  const small = randomBytes(1000);
  const large = randomBytes(12 * 1024 * 1024 + 3);  // three 5 MiB parts, uploaded in parallel
  toolOk(['put-object', url, 'raw/small.bin'], small);
  toolOk(['put-object', url, 'raw/large bin & more.bin'], large);
  assert.deepEqual(await sdkGet('shardsafe/raw/small.bin'), small);
  assert.equal(sha256(await sdkGet('shardsafe/raw/large bin & more.bin')), sha256(large));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'shardsafe/raw/large bin & more.bin' }));
  assert.equal(head.ContentLength, large.length);
});

test('shardsafe reads objects the SDK wrote, single PUT and multipart', async () => {
  const single = randomBytes(70_000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shardsafe/sdk/single', Body: single }));

  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
  const key = 'shardsafe/sdk/multi part';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const etags = [];
  for (const [index, body] of parts.entries()) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body }));
    etags.push({ ETag, PartNumber: index + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags } }));

  assert.deepEqual(toolOk(['get-object', url, 'sdk/single']), single);
  assert.equal(sha256(toolOk(['get-object', url, 'sdk/multi part'])), sha256(Buffer.concat(parts)));
  const listing = toolOk(['list', url, 'sdk/']).toString().trim().split('\n');
  assert.deepEqual(listing, [`sdk/multi part ${10 * 1024 * 1024 + 1234}`, 'sdk/single 70000']);
});

test('a gzip stream written by shardsafe is plain gzip to the SDK, with the recorded SHA-256', async () => {
  const text = Buffer.from('{"_id": 1, "shard": "rs0"}\n'.repeat(50_000));
  const stored = JSON.parse(toolOk(['put-stream', url, 'streams/coll.bson', 'gzip'], text).toString());
  assert.equal(stored.parts.length, 1);
  assert.equal(stored.parts[0].key, 'streams/coll.bson.gz');
  const object = await sdkGet('shardsafe/streams/coll.bson.gz');
  assert.equal(sha256(object), stored.parts[0].sha256);
  assert.equal(object.length, stored.parts[0].size);
  assert.deepEqual(gunzipSync(object), text);
});

test('an encrypted stream round-trips, and the wrong key is refused naming the object', async () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'keys-'));
  const keyFile = path.join(directory, 'right.key');
  const wrongFile = path.join(directory, 'wrong.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'));
  writeFileSync(wrongFile, randomBytes(32));
  const data = randomBytes(300_000);
  const storedText = toolOk(['put-stream', url, 'streams/secret.bson', 'zstd', keyFile], data).toString();
  const stored = JSON.parse(storedText);
  assert.match(stored.encryption_key_id, /^[0-9a-f]{16}$/);
  const object = await sdkGet('shardsafe/streams/secret.bson.zst');
  assert.equal(sha256(object), stored.parts[0].sha256);
  assert.equal(object.indexOf(data.subarray(0, 64)), -1, 'plaintext must not be stored');

  assert.deepEqual(toolOk(['get-stream', url, storedText, keyFile]), data);
  const wrong = runTool(['get-stream', url, storedText, wrongFile]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /wrong_key/);
  assert.match(wrong.stderr, /streams\/secret\.bson\.zst/);
  rmSync(directory, { recursive: true, force: true });
});

test('the SDK lists and deletes what shardsafe wrote', async () => {
  toolOk(['put-object', url, 'gone/a'], Buffer.from('a'));
  toolOk(['put-object', url, 'gone/b'], Buffer.from('bb'));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'shardsafe/gone/' }));
  assert.deepEqual(listed.Contents.map((o) => [o.Key, o.Size]), [['shardsafe/gone/a', 1], ['shardsafe/gone/b', 2]]);
  await s3.send(new DeleteObjectsCommand({
    Bucket: bucket, Delete: { Objects: listed.Contents.map((o) => ({ Key: o.Key })) },
  }));
  assert.equal(toolOk(['list', url, 'gone/']).toString(), '');
});

test('the SDK sees the storage class shardsafe wrote with, single PUT and multipart', async () => {
  const infrequent = `${url}&storage_class=STANDARD_IA`;
  toolOk(['put-object', infrequent, 'ia/small'], randomBytes(1000));
  toolOk(['put-object', infrequent, 'ia/large'], randomBytes(11 * 1024 * 1024));
  for (const key of ['shardsafe/ia/small', 'shardsafe/ia/large']) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.StorageClass, 'STANDARD_IA', key);
  }
  const refused = runTool(['put-object', `${url}&storage_class=COLD_STORAGE`, 'ia/refused'], Buffer.from('x'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /InvalidStorageClass/);
  assert.match(refused.stderr, /"shardsafe\/ia\/refused"/);
});
