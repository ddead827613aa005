import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  ensureWebhookSigningKey,
  WEBHOOK_KEY_FILE,
  WebhookPublisher,
  type WebhookPublisherOptions,
} from '#lib/events/publishers/webhook-publisher.ts';
import type { VaultEvent } from '#lib/events/vault-events.ts';

interface Delivery {
  body: string;
  headers: IncomingMessage['headers'];
}

const event = (n: number): VaultEvent => ({
  id: `00000000-0000-0000-0000-00000000000${n}`,
  topic: '/providers/Microsoft.KeyVault/vaults/payments',
  subject: 'db-password',
  eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
  eventTime: '2026-03-01T10:00:00.000Z',
  data: {
    Id: 'https://payments.vault.example.com/secrets/db-password/0123456789abcdef0123456789abcdef',
    VaultName: 'payments',
    ObjectType: 'Secret',
    ObjectName: 'db-password',
    Version: '0123456789abcdef0123456789abcdef',
    NBF: null,
    EXP: null,
  },
  dataVersion: '1',
  metadataVersion: '1',
});

describe('WebhookPublisher against a local HTTP server', () => {
  let server: Server;
  let url: string;
  let dataDir: string;
  let key: string;
  /** Status codes to answer with, in order; 200 once they run out. */
  let answers: number[];
  let deliveries: Delivery[];
  const warnings: { eventId: string; attempts: number; problem: string }[] = [];

  const publisher = (options: Partial<WebhookPublisherOptions> = {}) =>
    new WebhookPublisher({
      url,
      signingKey: key,
      baseDelayMs: 5,
      warn: (w) => warnings.push(w),
      ...options,
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'arca-webhook-'));
    key = ensureWebhookSigningKey(dataDir);
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
        response.statusCode = answers.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    answers = [];
    deliveries = [];
    warnings.length = 0;
  });

  it('keeps the signing key in a 0600 file of the data folder, the same on every start', () => {
    assert.equal(statSync(join(dataDir, WEBHOOK_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(ensureWebhookSigningKey(dataDir), key);
    assert.equal(readFileSync(join(dataDir, WEBHOOK_KEY_FILE), 'utf8').trim(), key);
    assert.ok(key.length >= 64);
  });

  it('POSTs each event as its JSON envelope, signed with the key and named by its id', async () => {
    const result = await publisher().publish([event(1), event(2)]);
    assert.deepEqual(result.failedIds, []);
    assert.equal(deliveries.length, 2);
    const [first] = deliveries;
    assert.deepEqual(JSON.parse(first?.body ?? ''), event(1));
    assert.equal(first?.headers['content-type'], 'application/json');
    assert.equal(first?.headers['x-arca-event-id'], event(1).id);
    const expected = `sha256=${createHmac('sha256', key)
      .update(first?.body ?? '')
      .digest('hex')}`;
    assert.equal(first?.headers['x-arca-signature'], expected);
    const forged = `sha256=${createHmac('sha256', 'another key')
      .update(first?.body ?? '')
      .digest('hex')}`;
    assert.notEqual(first?.headers['x-arca-signature'], forged);
    assert.deepEqual(
      deliveries.map((d) => JSON.parse(d.body).id),
      [event(1).id, event(2).id],
      'in order, one after the other',
    );
  });

  it('delivers after a retry when the receiver first answers 500', async () => {
    answers = [500];
    const result = await publisher().publish([event(1)]);
    assert.deepEqual(result.failedIds, []);
    assert.equal(deliveries.length, 2);
    assert.equal(deliveries[0]?.body, deliveries[1]?.body, 'the same body, so the same signature');
    assert.equal(deliveries[0]?.headers['x-arca-signature'], deliveries[1]?.headers['x-arca-signature']);
  });

  it('does not retry a 400, and reports the event as not delivered', async () => {
    answers = [400];
    const result = await publisher().publish([event(1), event(2)]);
    assert.deepEqual(result.failedIds, [event(1).id]);
    assert.deepEqual(result.problems, ['HTTP 400']);
    assert.equal(deliveries.length, 2, 'one attempt for the refused event, one for the next');
    assert.deepEqual(warnings, [{ eventId: event(1).id, attempts: 1, problem: 'HTTP 400' }]);
    assert.ok(!JSON.stringify(warnings).includes('payments'), 'no body in the warning');
  });

  it('gives up after its attempts when the receiver keeps failing', async () => {
    answers = [503, 503, 503, 503, 503, 503, 503];
    const result = await publisher({ attempts: 4 }).publish([event(1)]);
    assert.deepEqual(result.failedIds, [event(1).id]);
    assert.equal(deliveries.length, 4);
    assert.equal(warnings[0]?.attempts, 4);
  });

  it('stops retrying once the total time is spent', async () => {
    answers = [503, 503, 503, 503, 503];
    const started = Date.now();
    const result = await publisher({ baseDelayMs: 100, maxTotalMs: 250 }).publish([event(1)]);
    assert.deepEqual(result.failedIds, [event(1).id]);
    // Waits of 100 and 200 ms would end past 250 ms: two attempts, one wait.
    assert.equal(deliveries.length, 2);
    assert.ok(Date.now() - started < 1_000);
  });

  it('retries a refused connection, then reports it by error name', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const result = await publisher({ url: `http://127.0.0.1:${port}/`, attempts: 3 }).publish([event(1)]);
    assert.deepEqual(result.failedIds, [event(1).id]);
    assert.equal(warnings[0]?.attempts, 3);
    assert.equal(warnings[0]?.problem, 'TypeError', 'fetch reports a network failure as a TypeError');
  });

  it('refuses a URL that is not http or https', () => {
    assert.throws(() => publisher({ url: 'file:///etc/passwd' }), /http or https/);
    assert.throws(() => publisher({ url: 'not a url' }), /http or https/);
  });
});
