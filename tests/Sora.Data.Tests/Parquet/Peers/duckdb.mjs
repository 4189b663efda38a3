// node duckdb.mjs write <file> <codec> <rows> <rowGroupSize> [V1|V2]  -- writes the mixed-type test table, prints DuckDB's reading of it
// node duckdb.mjs read <file>        -- prints {"rows": all rows (DuckDB's own reading), "metadata": parquet_metadata rows} as JSON
// node duckdb.mjs query <sql>        -- prints the result rows as JSON
// (one Node start per call: DuckDB takes a second or two to start on a busy machine)
import { importPeer, toJson, print } from './peer-common.mjs';

const { DuckDBInstance } = await importPeer('@duckdb/node-api');
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const [command, ...args] = process.argv.slice(2);
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

async function rows(sql) {
  const reader = await connection.runAndReadAll(sql);
  const names = reader.columnNames();
  return reader.getRows().map((row) => Object.fromEntries(row.map((v, i) => [names[i], toJson(v)])));
}

switch (command) {
  case 'write': {
    const [file, codec, count, groupSize, version] = args;
    await connection.run(`COPY (
      SELECT
        (i * 7 - 1000)::INTEGER AS i32,
        (i * 1000003 - 5000000000)::BIGINT AS i64,
        (i / 3.0)::FLOAT AS f32,
        (i / 7.0 - 11)::DOUBLE AS f64,
        (i % 3 = 0) AS flag,
        'word-' || (i % 13)::VARCHAR AS label,
        ('blob-' || i::VARCHAR || '-' || repeat('x', i % 17))::BLOB AS data,
        CASE WHEN i % 5 = 0 THEN NULL ELSE [(i * 0.5)::FLOAT, (i * -0.25)::FLOAT, 1.5::FLOAT][1:(i % 4)] END AS embedding,
        CASE WHEN i % 4 = 0 THEN NULL ELSE i::INTEGER END AS maybe_i32,
        CASE WHEN i % 6 = 0 THEN NULL ELSE 'opt-' || i::VARCHAR END AS maybe_text
      FROM range(${Number(count)}) t(i)
    ) TO ${quote(file)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${Number(groupSize)}, PARQUET_VERSION ${version ?? 'V1'})`);
    print(await rows(`SELECT * FROM read_parquet(${quote(file)})`));
    break;
  }
  case 'read': {
    const [file] = args;
    print({
      rows: await rows(`SELECT * FROM read_parquet(${quote(file)})`),
      metadata: await rows(`SELECT row_group_id, path_in_schema, type, encodings, compression, num_values, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${quote(file)}) ORDER BY row_group_id, column_id`),
    });
    break;
  }
  case 'query':
    print(await rows(args[0]));
    break;
  default:
    console.error(`unknown command ${command}`);
    process.exit(2);
}
