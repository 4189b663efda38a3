// Shared by the peer scripts: resolve npm packages from <repo>/tools/node/node_modules (SORA_NODE_MODULES),
// and turn peer values into plain JSON (bigint -> string, bytes -> {hex}, lists -> arrays).
import { createRequire } from 'node:module';
import path from 'node:path';

const modules = process.env.SORA_NODE_MODULES;
if (!modules) {
  console.error('SORA_NODE_MODULES is not set (it must point at <repo>/tools/node/node_modules)');
  process.exit(2);
}

export const require = createRequire(path.join(modules, 'noop.js'));

export async function importPeer(name) {
  const resolved = require.resolve(name);
  return import(resolved.startsWith('/') ? 'file://' + resolved : resolved);
}

export function toJson(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return value;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(toJson);
  if (value.bytes instanceof Uint8Array) return { hex: Buffer.from(value.bytes).toString('hex') }; // DuckDBBlobValue
  if (Array.isArray(value.items)) return value.items.map(toJson); // DuckDBListValue
  if (typeof value.valueOf === 'function' && value.valueOf() !== value) return toJson(value.valueOf());
  return String(value);
}

export function print(rows) {
  process.stdout.write(JSON.stringify(rows));
}
