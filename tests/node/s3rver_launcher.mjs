// Starts s3rver on a free loopback port for the C++ and Node.js tests and prints
// {"port": N} on stdout once it listens. It serves until its stdin closes, so it cannot
// outlive the test that started it (even one that crashes).
//
// usage: node s3rver_launcher.mjs <data-directory> <bucket> [<cert.pem> <key.pem>]
// With a certificate and its key, it serves HTTPS.
import { readFileSync } from 'node:fs';
import S3rver from 's3rver';

const [directory, bucket, certFile, keyFile] = process.argv.slice(2);
if (!directory || !bucket || (certFile && !keyFile)) {
  console.error('usage: node s3rver_launcher.mjs <data-directory> <bucket> [<cert.pem> <key.pem>]');
  process.exit(2);
}
const tls = certFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : {};

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  // "<bucket>.s3.localhost" names the bucket, so virtual-hosted requests work on loopback
  // (curl resolves *.localhost to 127.0.0.1 itself).
  serviceEndpoint: 'localhost',
  configureBuckets: [{ name: bucket }],
  ...tls,
});
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
