/**
 * `npm run soak -- [--events <n>] [--seed <n>] [--report bench/soak.md] [--lake <dir>] [--fault-scale <x>]`
 * (the script runs `tsx bench/soak.ts`). See bench/soak-harness.ts for what the soak does.
 *
 * The lake is a local folder (LocalSink) with the file watermark store beside it, both without
 * fsync (the soak kills simulated processes, not the machine); the detections run on that folder.
 * Exits 1 when any event was lost, duplicated or changed, a late event is missing, or a planted
 * attack was not alerted exactly once; 2 on a wrong command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FileWatermarkStore } from '../lib/adapters/file-watermark-store';
import { LocalSink } from '../lib/adapters/local-sink';
import { runSoak, soakMarkdown, soakPassed, type SoakReport } from './soak-harness';

function usage(message: string): never {
  process.stderr.write(`soak: ${message}\nUsage: npm run soak -- [--events <n>] [--seed <n>] [--hours <h>] [--fault-scale <x>] [--report <file.md>] [--lake <dir>]\n`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be a whole number >= ${min}, got "${value}"`);
  return n;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        events: { type: 'string' },
        seed: { type: 'string' },
        hours: { type: 'string' },
        'fault-scale': { type: 'string' },
        report: { type: 'string' },
        lake: { type: 'string' },
      },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const events = intOption(values.events, 'events', 100_000, 1_000);
  const seed = intOption(values.seed, 'seed', 1, 0);
  const hours = intOption(values.hours, 'hours', 12, 1);
  const faultScale = values['fault-scale'] === undefined ? 1 : Number(values['fault-scale']);
  if (!(faultScale >= 0)) usage(`--fault-scale must be a number >= 0, got "${values['fault-scale']}"`);

  const keep = values.lake !== undefined;
  const root = keep ? resolve(values.lake as string) : mkdtempSync(join(tmpdir(), 'okta-lake-soak-'));
  const commandLine = `${process.env.npm_lifecycle_event === 'soak' ? 'npm run soak --' : 'npx tsx bench/soak.ts'}${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  process.stderr.write(`soak: ${commandLine}\n  lake ${root}${keep ? '' : ' (removed afterwards)'}\n`);
  let report: SoakReport;
  try {
    const store = new FileWatermarkStore({ dir: join(root, 'state'), fsync: false });
    report = await runSoak({
      events,
      seed,
      hours,
      faultScale,
      sink: new LocalSink({ root: join(root, 'lake'), fsync: false }),
      store,
      // The detections read the ingestion watermark from the same files.
      watermarks: store,
      tmpDir: join(root, 'tmp'),
      lakeDescription: 'a local folder (LocalSink) with the file watermark store, both without fsync',
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
  const markdown = soakMarkdown(report, commandLine);
  process.stdout.write(`${markdown}\n`);
  if (values.report !== undefined) {
    writeFileSync(values.report, markdown);
    process.stderr.write(`soak: report written to ${values.report}\n`);
  }
  return soakPassed(report) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
