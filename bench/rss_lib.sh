# Helpers bench/rss.sh and bench/cluster_rss.sh share; sourced from the repository root.

build=${SHARDSAFE_BUILD_DIR:-$PWD/build}  # where the binaries under test are

# The first of $1 (default 1) consecutive free loopback ports, from a random start.
free_port() {
  node -e '
const net = require("net");
const count = Number(process.argv[1] || 1);
const free = (port) => new Promise((ok) => { const s = net.createServer().once("error", () => ok(false)).listen(port, "127.0.0.1", () => s.close(() => ok(true))); });
(async () => {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let all = true;
    for (let p = base; p < base + count && all; p++) all = await free(p);
    if (all) { console.log(base); return; }
  }
})();' "${1:-1}"
}

# Field $1 (a JavaScript property path, e.g. ".uri") of the JSON on stdin.
json_field() {
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(eval("JSON.parse(s)"+process.argv[1])))' "$1"
}

# Peak RSS (MiB), wall time and local disk writes of a command, from GNU time's report.
measure() {
  local report
  report=$(mktemp)
  /usr/bin/time -v -o "$report" "$@" >/dev/null
  awk -F': ' '/Maximum resident set size/ {rss=$2} /Elapsed \(wall clock\)/ {wall=$2}
              /File system outputs/ {blocks=$2}
              END {printf "peak RSS %.1f MiB, wall %s, disk writes %.1f MiB", rss/1024, wall, blocks*512/1048576}' "$report"
  rm -f "$report"
}

# Loads about $2 MiB of ~1 KiB documents into 8 collections bench.data0..7 through $1 with the
# official Node.js driver (so the loader is not shardsafe). With $3 = sharded ($1 a mongos),
# every collection is first sharded on _id with the upper half of the ids in a chunk on shard1,
# so each shard gets half the data without a migration.
load() {  # uri MiB [sharded]
  node --input-type=module - "$1" "$2" "${3:-}" <<'JS'
import { MongoClient } from './tests/node/node_modules/mongodb/lib/index.js';
const [uri, mib, sharded] = process.argv.slice(2);
const client = await MongoClient.connect(uri);
const documents = Math.ceil(mib * 1024 * 1024 / 1000 / 4000) * 4000;
if (sharded) {
  const admin = client.db('admin');
  await admin.command({ enableSharding: 'bench', primaryShard: 'shard0' });
  for (let c = 0; c < 8; c++) {
    const ns = `bench.data${c}`;
    await admin.command({ shardCollection: ns, key: { _id: 1 } });
    await admin.command({ split: ns, middle: { _id: documents / 2 } });
    await admin.command({ moveChunk: ns, find: { _id: documents / 2 }, to: 'shard1' });
  }
}
for (let id = 0; id < documents; ) {
  const batch = [];
  for (let i = 0; i < 4000; i++, id++) {
    batch.push({ _id: id, name: `document number ${id}`, value: id * 1.5, payload: String(id).padEnd(920, 'x') });
  }
  await client.db('bench').collection(`data${(id / 4000) % 8}`).insertMany(batch, { ordered: false });
}
await client.close();
JS
}
