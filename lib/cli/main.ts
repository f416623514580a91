/**
 * The okta-lake command line: `okta-lake <command> [options]`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, OktaLakeError } from '../core/errors';
import { OktaAuthError } from '../core/okta/errors';
import { UsageError } from './args';
import { compactCommand, verifyCommand } from './compact-command';
import { demoCommand } from './demo-command';
import { detectCommand } from './detect-command';
import { huntCommand } from './hunt-command';
import { importCommand } from './import-command';
import { ingestCommand } from './ingest-command';
import { mockOktaCommand } from './mock-okta-command';
import { reconcileCommand } from './reconcile-command';
import { EXIT } from './output';

export const MAIN_HELP = `Usage: okta-lake <command> [options]

Keep the Okta System Log as Hive-partitioned Parquet, and hunt in it.

Commands:
  ingest      read an Okta org's System Log into a lake (a folder or S3), resumably
  reconcile   re-read closed windows and add the events Okta recorded late
  import      write exported events (JSON array or JSON lines) into a lake
  compact     rewrite each closed org-day as at most 2 verified Parquet files under compacted/
  verify      prove that a compacted day holds exactly the events of its originals
  detect      run every scheduled detection on a local lake as the deployment does, printing what is new
  hunt        run the athena-queries/ detections and hunts on a local lake with DuckDB
  mock-okta   serve events with Okta's /api/v1/logs semantics on loopback (for tests and demos)
  demo        simulate an org's day, serve it, ingest it into ./demo-lake and hunt in it

Run \`okta-lake <command> --help\` for a command's options.

Exit codes: 0 ok, 1 failed, 2 wrong usage or configuration, 3 Okta refused the credential,
4 interrupted before finishing (rerun to resume), 5 another run holds the org's lease.`;

type Command = (argv: readonly string[], io: CommandIo) => Promise<number>;

export interface CommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly signal?: AbortSignal;
}

const COMMANDS: Record<string, Command> = {
  ingest: (argv, io) => ingestCommand(argv, io),
  import: (argv, io) => importCommand(argv, io),
  hunt: (argv, io) => huntCommand(argv, io),
  detect: (argv, io) => detectCommand(argv, io),
  'mock-okta': (argv, io) => mockOktaCommand(argv, io),
  reconcile: (argv, io) => reconcileCommand(argv, io),
  compact: (argv, io) => compactCommand(argv, io),
  verify: (argv, io) => verifyCommand(argv, io),
  demo: (argv, io) => demoCommand(argv, io),
};

/** Runs one command line; returns the exit code. Never lets an error escape unexplained. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${MAIN_HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`okta-lake: unknown command "${name}"\n\n${MAIN_HELP}\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    io.stderr.write(`okta-lake ${name}: ${describe(error)}\n`);
    if (error instanceof UsageError) io.stderr.write(`Run \`okta-lake ${name} --help\` for the options.\n`);
    if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
    if (error instanceof OktaAuthError) return EXIT.auth;
    return EXIT.failure;
  }
}

/** The error and its causes, one per line (named errors never carry a credential). */
export function describe(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      lines.push(`${depth === 0 ? '' : '  caused by '}${current instanceof OktaLakeError ? '' : `${current.name}: `}${current.message}`);
      current = current.cause;
    } else {
      lines.push(`  caused by ${String(current)}`);
      break;
    }
  }
  return lines.join('\n');
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping at the next page boundary (press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`okta-lake: ${describe(error)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
