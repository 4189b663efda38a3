// node duckdb-scan.mjs <glob> <threads>
// Scans the payload column of Parquet files with DuckDB and prints {"seconds", "rows", "bytes"} as JSON:
// the in-process time of the query alone (DuckDB's start-up is left out), best of three runs.
// Used by `sora bench data` as the same-run baseline; resolves @duckdb/node-api from tools/node/node_modules.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'node_modules', 'noop.js'));
const { DuckDBInstance } = await import('file://' + require.resolve('@duckdb/node-api'));
const [glob, threads] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(`SET threads = ${Number(threads ?? 1)}`);
const sql = `SELECT count(*)::BIGINT AS n, sum(octet_length(payload))::BIGINT AS bytes FROM read_parquet('${glob.replaceAll("'", "''")}')`;
let best = Infinity;
let rows = 0n;
let bytes = 0n;
for (let i = 0; i < 3; i++) {
  const start = process.hrtime.bigint();
  const reader = await connection.runAndReadAll(sql);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const [row] = reader.getRows();
  rows = row[0];
  bytes = row[1];
  best = Math.min(best, seconds);
}
console.log(JSON.stringify({ seconds: best, rows: Number(rows), bytes: Number(bytes) }));
