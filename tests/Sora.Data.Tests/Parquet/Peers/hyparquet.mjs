// node hyparquet.mjs read <file>            -- prints all rows as JSON (hyparquet's reading; BYTE_ARRAY without STRING stays bytes)
// node hyparquet.mjs write <file> <rows>    -- writes a table with hyparquet-writer and prints the rows it wrote as JSON
import fs from 'node:fs';
import { importPeer, toJson, print } from './peer-common.mjs';

const [command, file, count] = process.argv.slice(2);
if (command === 'read') {
  const { parquetReadObjects } = await importPeer('hyparquet');
  // hyparquet decodes SNAPPY itself; ZSTD (and the rest) come from hyparquet-compressors, GZIP from Node's zlib.
  const zlib = await import('node:zlib');
  const { compressors: extra } = await importPeer('hyparquet-compressors');
  const compressors = { ...extra, GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)) };
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await parquetReadObjects({ file: buffer, utf8: false, compressors, rowFormat: 'object' });
  print(rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toJson(v)]))));
} else if (command === 'write') {
  const { parquetWriteBuffer } = await importPeer('hyparquet-writer');
  const n = Number(count);
  const ids = [], scores = [], ratios = [], names = [], flags = [], counts = [], vectors = [];
  for (let i = 0; i < n; i++) {
    ids.push(i * 3 - 50);
    scores.push(BigInt(i) * 1000000007n - 3n);
    ratios.push(i / 9);
    names.push(i % 7 === 0 ? null : `name-${i % 11}`);
    flags.push(i % 2 === 0);
    counts.push(i % 5 === 0 ? null : i);
    vectors.push(i % 4 === 0 ? null : [i * 0.5, -i, 0.25].slice(0, 1 + (i % 3)));
  }
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ids, type: 'INT32' },
      { name: 'score', data: scores, type: 'INT64' },
      { name: 'ratio', data: ratios, type: 'DOUBLE' },
      { name: 'name', data: names, type: 'STRING' },
      { name: 'flag', data: flags, type: 'BOOLEAN' },
      { name: 'count', data: counts, type: 'INT32' },
    ],
    rowGroupSize: Math.max(1, Math.floor(n / 3)),
  });
  fs.writeFileSync(file, Buffer.from(buffer));
  print(ids.map((id, i) => ({ id, score: scores[i].toString(), ratio: ratios[i], name: names[i], flag: flags[i], count: counts[i] })));
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
