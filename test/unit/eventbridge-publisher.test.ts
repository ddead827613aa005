import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '#lib/events/publishers/eventbridge-publisher.ts';
import type { VaultEvent } from '#lib/events/vault-events.ts';

const eventbridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'eu-west-1' });
const bus = 'arca-vault-events';

const event = (n: number): VaultEvent => ({
  id: `event-${n}`,
  topic: '/providers/Microsoft.KeyVault/vaults/payments',
  subject: `secret-${n}`,
  eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
  eventTime: '2026-03-01T10:00:00.000Z',
  data: {
    Id: `https://payments.vault.example.com/secrets/secret-${n}/0123456789abcdef0123456789abcdef`,
    VaultName: 'payments',
    ObjectType: 'Secret',
    ObjectName: `secret-${n}`,
    Version: '0123456789abcdef0123456789abcdef',
    NBF: null,
    EXP: 1_800_000_000,
  },
  dataVersion: '1',
  metadataVersion: '1',
});

/** Answers every entry as accepted, except those the test names. */
function answer(failing: (detail: VaultEvent) => string | undefined = () => undefined) {
  eventbridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
    const entries = (input.Entries ?? []).map((entry, i) => {
      const code = failing(JSON.parse(entry.Detail ?? '{}') as VaultEvent);
      return code ? { ErrorCode: code, ErrorMessage: 'no' } : { EventId: `eb-${i}` };
    });
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  });
}

beforeEach(() => eventbridge.reset());

describe('EventBridgePublisher', () => {
  it('puts 23 events in 3 calls of at most 10 entries, in order', async () => {
    answer();
    const events = Array.from({ length: 23 }, (_, n) => event(n));
    const result = await new EventBridgePublisher(client, bus).publish(events);
    assert.deepEqual(result.failedIds, []);
    const calls = eventbridge.commandCalls(PutEventsCommand);
    assert.deepEqual(
      calls.map((c) => c.args[0].input.Entries?.length),
      [10, 10, 3],
    );
    const details = calls
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.Detail ?? ''));
    assert.deepEqual(details, events, 'each detail is the whole envelope');
  });

  it('puts each event on the bus with source arca.keyvault and the event type as detail-type', async () => {
    answer();
    await new EventBridgePublisher(client, bus).publish([event(1)]);
    const [entry] = eventbridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    assert.equal(entry?.EventBusName, bus);
    assert.equal(entry?.Source, 'arca.keyvault');
    assert.equal(entry?.DetailType, 'Microsoft.KeyVault.SecretNewVersionCreated');
    assert.deepEqual(entry?.Time, new Date('2026-03-01T10:00:00.000Z'));
  });

  it('names the events of failed entries by their ids', async () => {
    answer((detail) => (['event-3', 'event-14'].includes(detail.id) ? 'ThrottlingException' : undefined));
    const events = Array.from({ length: 23 }, (_, n) => event(n));
    const result = await new EventBridgePublisher(client, bus).publish(events);
    assert.deepEqual(result.failedIds, ['event-3', 'event-14']);
    assert.deepEqual(result.problems, ['ThrottlingException']);
  });

  it('fails every event of a call that throws, and carries on with the next call', async () => {
    eventbridge
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({
        FailedEntryCount: 0,
        Entries: Array.from({ length: 10 }, (_, i) => ({ EventId: `eb-${i}` })),
      });
    const events = Array.from({ length: 13 }, (_, n) => event(n));
    const result = await new EventBridgePublisher(client, bus).publish(events);
    assert.deepEqual(
      result.failedIds,
      events.slice(0, 10).map((e) => e.id),
    );
    assert.deepEqual(result.problems, ['ThrottlingException']);
    assert.equal(eventbridge.commandCalls(PutEventsCommand).length, 2);
  });

  it('counts an entry without a result as not delivered', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-0' }] });
    const result = await new EventBridgePublisher(client, bus).publish([event(0), event(1)]);
    assert.deepEqual(result.failedIds, ['event-1']);
    assert.deepEqual(result.problems, ['NoEntryResult']);
  });
});
