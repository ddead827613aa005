import { appendFile, chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorName } from '../stream-events.ts';
import type { EventPublisher, PublishResult, VaultEvent } from '../vault-events.ts';

/**
 * Local mode's event bus: one Event Grid envelope per line, appended to
 * `{dataDir}/events.jsonl`, a file only its owner can read (0600). A failed
 * append fails every event of the call, which is then published again.
 */
export class JsonLinesEventSink implements EventPublisher {
  readonly name = 'jsonl-file';
  readonly path: string;
  private prepared: Promise<void> | undefined;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'events.jsonl');
  }

  async publish(events: readonly VaultEvent[]): Promise<PublishResult> {
    if (events.length === 0) return { failedIds: [] };
    const lines = events.map((e) => `${JSON.stringify(e)}\n`).join('');
    try {
      this.prepared ??= this.prepare();
      await this.prepared;
      await appendFile(this.path, lines, { mode: 0o600 });
    } catch (error) {
      this.prepared = undefined;
      return { failedIds: events.map((e) => e.id), problems: [errorName(error)] };
    }
    return { failedIds: [] };
  }

  /** The folder exists, and a file made earlier with a wider mode is narrowed. */
  private async prepare(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await appendFile(this.path, '', { mode: 0o600 });
    await chmod(this.path, 0o600);
  }
}
