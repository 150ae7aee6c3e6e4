// Helpers for tests that talk to s3rver: start it on a free loopback port, build an AWS SDK
// client for it, and run the C++ storage_tool against it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = process.env.SHARDSAFE_BUILD_DIR ?? path.join(here, '..', '..', 'build');
export const storageTool = path.join(buildDir, 'tests', 'storage_tool');

// Starts tests/node/s3rver_launcher.mjs; resolves to { port, stop() }.
export async function startS3rver(bucket) {
  const directory = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  // s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(here, 's3rver_launcher.mjs'),
    directory, bucket], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('s3rver did not start within 30 s')), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(output).port);
      }
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
    rmSync(directory, { recursive: true, force: true });
  };
  return { port, stop };
}

export function sdkClient(port) {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 checksums (aws-chunked bodies with trailers).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

// Runs storage_tool; returns { status, stdout (Buffer), stderr (string) }.
export function runTool(args, input = Buffer.alloc(0)) {
  const result = spawnSync(storageTool, args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}
