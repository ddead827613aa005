import { appendFile, chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditRecord } from '../audit-record.ts';
import { type AuditSink, errorName, type SinkResult } from '../ship.ts';

export interface JsonLinesFileSinkOptions {
  readonly path: string;
  /** Also write each line here (local mode with ARCA_AUDIT_STDOUT=1: process.stdout). */
  readonly echo?: { write(chunk: string): unknown };
}

/**
 * Local mode's sink: one JSON line per record, appended to a file only its
 * owner can read (0600). A failed append fails the whole batch, which the
 * poller then ships again.
 */
export class JsonLinesFileSink implements AuditSink {
  readonly name = 'jsonl-file';
  private prepared: Promise<void> | undefined;

  constructor(private readonly options: JsonLinesFileSinkOptions) {}

  async deliver(records: readonly AuditRecord[]): Promise<SinkResult> {
    if (records.length === 0) return { failedIds: [] };
    const lines = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    try {
      this.prepared ??= this.prepare();
      await this.prepared;
      await appendFile(this.options.path, lines, { mode: 0o600 });
    } catch (error) {
      this.prepared = undefined;
      return { failedIds: records.map((r) => r.id), problems: [errorName(error)] };
    }
    this.options.echo?.write(lines);
    return { failedIds: [] };
  }

  /** The folder exists, and a file made earlier with a wider mode is narrowed. */
  private async prepare(): Promise<void> {
    await mkdir(dirname(this.options.path), { recursive: true, mode: 0o700 });
    await appendFile(this.options.path, '', { mode: 0o600 });
    await chmod(this.options.path, 0o600);
  }
}
