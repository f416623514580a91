/**
 * Starts the local emulators the tests use, as real HTTP servers on loopback:
 * s3rver (S3) and dynalite (DynamoDB), each as its own Node process.
 *
 * `.ci/run` starts them once and exports OKTA_LAKE_TEST_S3_ENDPOINT / OKTA_LAKE_TEST_DYNAMODB_ENDPOINT;
 * a plain `npm test` starts them here for the run and stops them afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`emulator exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`emulator did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopper(child: ChildProcess, cleanup?: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    cleanup?.();
  };
}

/** s3rver needs the legacy OpenSSL provider on Node 17+ (paginated listings fail with 500 otherwise). */
export async function startS3rver(): Promise<Emulator> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-s3rver-'));
  // s3rver with S3's conditional writes (If-None-Match), see scripts/s3-emulator.cjs.
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 's3-emulator.cjs');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '--directory', dir, '--address', '127.0.0.1', '--port', String(port)],
    { stdio: 'ignore' },
  );
  await waitForPort(port, child);
  return { endpoint: `http://127.0.0.1:${port}`, stop: stopper(child, () => rmSync(dir, { recursive: true, force: true })) };
}

export async function startDynalite(): Promise<Emulator> {
  const port = await freePort();
  const bin = join(dirname(require.resolve('dynalite/package.json')), 'cli.js');
  const child = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0'], {
    stdio: 'ignore',
  });
  await waitForPort(port, child);
  return { endpoint: `http://127.0.0.1:${port}`, stop: stopper(child) };
}
