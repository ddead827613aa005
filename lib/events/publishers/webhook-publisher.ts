import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorName } from '../stream-events.ts';
import type { EventPublisher, PublishResult, VaultEvent } from '../vault-events.ts';

export interface WebhookPublisherOptions {
  /** ARCA_EVENTS_WEBHOOK_URL: http or https. */
  readonly url: string;
  /** The HMAC key (the text of the key file, see ensureWebhookSigningKey). */
  readonly signingKey: string;
  /** @default 5 */
  readonly attempts?: number;
  /** The wait before retry n (from 0) is baseDelayMs × 2^n. @default 200 */
  readonly baseDelayMs?: number;
  /** No retry starts after this long from the first attempt. @default 15000 */
  readonly maxTotalMs?: number;
  /** @default 5000 */
  readonly attemptTimeoutMs?: number;
  /** Failures, by event id and status or error name: never a body. @default a JSON line on stderr */
  readonly warn?: (entry: { eventId: string; attempts: number; problem: string }) => void;
}

/** The file, in the data folder, holding the key deliveries are signed with. */
export const WEBHOOK_KEY_FILE = 'events-webhook.key';

/**
 * The signing key of this data folder: 32 random bytes as hex text, made on
 * first use in `{dataDir}/events-webhook.key` (0600) and never printed. The
 * receiver is configured with the same text and computes
 * `sha256=` + hex(HMAC-SHA256(key text, raw body)).
 */
export function ensureWebhookSigningKey(dataDir: string): string {
  const path = join(dataDir, WEBHOOK_KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(path, 0o600);
  const key = readFileSync(path, 'utf8').trim();
  if (key.length < 32) throw new Error(`${path} holds no usable signing key; delete it to make a new one`);
  return key;
}

export function signatureOf(body: string, key: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}

/**
 * Local mode's optional webhook: each event POSTed alone, as its Event Grid
 * envelope in JSON, signed (`x-arca-signature`) and named
 * (`x-arca-event-id`, for the receiver to drop repeats). Events go one after
 * another, in order. A network error or a 5xx is retried with exponential
 * backoff within bounded attempts and time; any other answer than 2xx
 * (a 4xx, a redirect) is final. Bodies are never logged.
 */
export class WebhookPublisher implements EventPublisher {
  readonly name = 'webhook';
  private readonly url: string;

  constructor(private readonly options: WebhookPublisherOptions) {
    const url = URL.canParse(options.url) ? new URL(options.url) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new Error('ARCA_EVENTS_WEBHOOK_URL must be an http or https URL');
    }
    this.url = url.href;
  }

  async publish(events: readonly VaultEvent[]): Promise<PublishResult> {
    const failedIds: string[] = [];
    const problems = new Set<string>();
    for (const event of events) {
      const problem = await this.deliver(event);
      if (problem) {
        failedIds.push(event.id);
        problems.add(problem);
      }
    }
    return { failedIds, ...(problems.size > 0 && { problems: [...problems] }) };
  }

  /** Undefined when delivered; else why not, as a status or an error name. */
  private async deliver(event: VaultEvent): Promise<string | undefined> {
    const attempts = this.options.attempts ?? 5;
    const baseDelayMs = this.options.baseDelayMs ?? 200;
    const deadline = Date.now() + (this.options.maxTotalMs ?? 15_000);
    const body = JSON.stringify(event);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'arca-events',
      'x-arca-event-id': event.id,
      'x-arca-signature': signatureOf(body, this.options.signingKey),
    };
    let problem = 'NotAttempted';
    let attempt = 0;
    while (attempt < attempts) {
      attempt++;
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? 5_000),
        });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) return undefined;
        problem = `HTTP ${response.status}`;
        if (response.status < 500) break;
      } catch (error) {
        problem = errorName(error);
      }
      const delay = baseDelayMs * 2 ** (attempt - 1);
      if (attempt >= attempts || Date.now() + delay > deadline) break;
      await sleep(delay);
    }
    (this.options.warn ?? warnOnStderr)({ eventId: event.id, attempts: attempt, problem });
    return problem;
  }
}

function warnOnStderr(entry: { eventId: string; attempts: number; problem: string }): void {
  console.error(JSON.stringify({ level: 'warn', msg: 'event not delivered to the webhook', ...entry }));
}
