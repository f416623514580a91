import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors';
import { DuckDbQueryError, duckDbConfig, openDuckDb, runOnThisThread } from '../../lib/core/writer/duckdb';

const dir = mkdtempSync(join(tmpdir(), 'okta-lake-duckdb-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function settings(options: Parameters<typeof openDuckDb>[0]): Promise<Record<string, string>> {
  const db = await openDuckDb(options);
  try {
    const reader = await db.connection.runAndReadAll(
      `SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit', 'home_directory',
        'temp_directory', 'extension_directory', 'autoload_known_extensions', 'autoinstall_known_extensions',
        'allow_community_extensions', 'TimeZone')`,
    );
    return Object.fromEntries(reader.getRows().map(([k, v]) => [String(k), String(v)]));
  } finally {
    db.close();
  }
}

describe('openDuckDb', () => {
  it('defaults to one thread, 512 MB, no extension autoload/autoinstall, UTC, directories under tmpDir', async () => {
    // Prepare
    const tmpDir = join(dir, 'defaults');
    // Act
    const s = await settings({ tmpDir });
    // Assess
    expect(s.temp_directory.startsWith(join(tmpDir, 'spill', `${process.pid}-`))).toBe(true);
    expect({ ...s, temp_directory: undefined }).toEqual({
      threads: '1',
      memory_limit: '488.2 MiB',
      home_directory: join(tmpDir, 'home'),
      temp_directory: undefined,
      extension_directory: join(tmpDir, 'extensions'),
      autoload_known_extensions: 'false',
      autoinstall_known_extensions: 'false',
      allow_community_extensions: 'false',
      TimeZone: 'UTC',
    });
  });

  it('applies threads and memoryLimit for local hunting', async () => {
    // Act
    const s = await settings({ tmpDir: join(dir, 'custom'), threads: 2, memoryLimit: '1GB' });
    // Assess
    expect(s.threads).toBe('2');
    expect(s.memory_limit).toBe('953.6 MiB');
  });

  it('gives every instance its own spill folder and removes it on close', async () => {
    // Prepare
    const tmpDir = join(dir, 'spill');
    const a = await openDuckDb({ tmpDir });
    const b = await openDuckDb({ tmpDir });
    const spillOf = async (db: typeof a): Promise<string> =>
      String((await db.connection.runAndReadAll(`SELECT current_setting('temp_directory')`)).getRows()[0][0]);
    const [spillA, spillB] = [await spillOf(a), await spillOf(b)];
    // Act: a sort larger than the memory limit forces DuckDB to spill
    await a.connection.run(`SET memory_limit = '64MB'`);
    await a.connection.run(
      `COPY (SELECT range AS i, repeat('x', 100) || range AS s FROM range(1000000) ORDER BY s DESC) TO '${join(tmpDir, 'sorted.csv')}'`,
    );
    const spilled = existsSync(spillA);
    a.close();
    b.close();
    // Assess
    expect(spillA).not.toBe(spillB);
    expect(spilled).toBe(true);
    expect(existsSync(spillA)).toBe(false);
  });

  it('uses os.tmpdir()/okta-lake-duckdb when no tmpDir is given', () => {
    expect(duckDbConfig().tmpDir).toBe(join(tmpdir(), 'okta-lake-duckdb'));
  });

  it('reads JSON and writes Parquet with the built-in extensions, and gives every connection UTC', async () => {
    // Prepare
    const db = await openDuckDb({ tmpDir: join(dir, 'builtin') });
    const file = join(dir, 'builtin', 'x.parquet');
    try {
      // Act
      await db.connection.run(
        `COPY (SELECT json_extract_string('{"a":"b"}', '$.a') AS a, '2024-01-01T10:00:00+02:00'::TIMESTAMPTZ::TIMESTAMP AS t)
         TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      const other = await db.instance.connect();
      const rows = (await other.runAndReadAll(`SELECT a, t::VARCHAR AS t, current_setting('TimeZone') AS tz FROM '${file}'`)).getRowObjectsJson();
      other.closeSync();
      // Assess
      expect(rows).toEqual([{ a: 'b', t: '2024-01-01 08:00:00', tz: 'UTC' }]);
    } finally {
      db.close();
    }
  });

  it.each([
    [{ threads: 0 }, /threads must be an integer from 1 to 256, got 0/],
    [{ threads: 1.5 }, /threads must be an integer/],
    [{ memoryLimit: 'lots' }, /memoryLimit must look like '512MB' or '2GB', got 'lots'/],
    [{ tmpDir: ' ' }, /tmpDir must be a non-empty path/],
  ])('rejects %j with a ConfigError', (options, message) => {
    expect(() => duckDbConfig(options)).toThrow(ConfigError);
    expect(() => duckDbConfig(options)).toThrow(message);
  });
});

describe('runOnThisThread', () => {
  it.each([1, 3])('returns the result of a bound prepared statement with %i DuckDB thread(s)', async (threads) => {
    // Prepare
    const db = await openDuckDb({ tmpDir: join(dir, `run-${threads}`), threads });
    try {
      const statement = await db.connection.prepare('SELECT count(*)::INTEGER AS n, sum(range)::BIGINT AS s FROM range($1::BIGINT)');
      statement.bind([300_000]);
      // Act
      const rows = await (await runOnThisThread(statement)).getRowObjectsJS();
      statement.destroySync();
      // Assess
      expect(rows).toEqual([{ n: 300_000, s: 44_999_850_000n }]);
    } finally {
      db.close();
    }
  });

  it('commits what the statement changes, for the next statement to see', async () => {
    // Prepare
    const db = await openDuckDb({ tmpDir: join(dir, 'run-ddl') });
    try {
      const create = await db.connection.prepare('CREATE OR REPLACE TEMP TABLE t AS SELECT range AS i FROM range($1::BIGINT)');
      create.bind([5]);
      // Act
      await runOnThisThread(create);
      create.destroySync();
      const rows = (await db.connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJS();
      // Assess
      expect(rows).toEqual([{ n: 5 }]);
    } finally {
      db.close();
    }
  });

  it("rejects with DuckDbQueryError carrying DuckDB's own message", async () => {
    // Prepare
    const db = await openDuckDb({ tmpDir: join(dir, 'run-error') });
    try {
      const statement = await db.connection.prepare("SELECT CASE WHEN range = 3 THEN error('row 3 is bad') END FROM range(10)");
      // Act
      const attempt = runOnThisThread(statement);
      // Assess
      await expect(attempt).rejects.toBeInstanceOf(DuckDbQueryError);
      await expect(runOnThisThread(statement)).rejects.toThrow(/^Invalid Input Error: row 3 is bad/);
      statement.destroySync();
    } finally {
      db.close();
    }
  });
});
