/** A `Reporter` that keeps what it is told, in order, for tests to read back. */
import type { Reporter } from '../lib/core/ports';

export interface ReportedLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export class RecordingReporter implements Reporter {
  readonly lines: ReportedLine[] = [];

  // Properties, not methods, so `reporter.info` can be handed on by itself.
  readonly info = (message: string, fields?: Record<string, unknown>): void => {
    this.lines.push({ level: 'info', message, fields });
  };

  readonly warn = (message: string, fields?: Record<string, unknown>): void => {
    this.lines.push({ level: 'warn', message, fields });
  };

  /** The messages reported at `level`, in order. */
  messages(level: ReportedLine['level']): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}
