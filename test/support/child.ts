/** Runs Node in a child process, as the tests that load a bundled asset the way Lambda would need. */
import { spawn } from 'node:child_process';

export interface ChildRun {
  /** Exit status, or null when the child was killed (by the timeout, among others). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <args>` in `cwd` with exactly `env`, killing it after `timeoutMs`; collects its output. */
export function runNode(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>, timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
