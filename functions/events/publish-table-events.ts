import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parseEventsConfig, vaultUrlFor } from '#lib/events/events-config.ts';
import { EventBridgePublisher } from '#lib/events/publishers/eventbridge-publisher.ts';
import { publishRecordEvents, tableStreamEvents } from '#lib/events/stream-events.ts';
import type { VaultUrl } from '#lib/events/vault-events.ts';

let made: { publisher: EventBridgePublisher; vaultUrl: VaultUrl } | undefined;

/** Made on the first batch of a container, from its environment. */
function container() {
  if (made) return made;
  const cfg = parseEventsConfig(process.env, ['ARCA_EVENT_BUS_NAME', 'ARCA_VAULT_DOMAIN']);
  made = {
    publisher: new EventBridgePublisher(new EventBridgeClient({}), cfg.ARCA_EVENT_BUS_NAME),
    vaultUrl: vaultUrlFor(cfg.ARCA_VAULT_DOMAIN),
  };
  return made;
}

/**
 * The main table's stream, as vault events on the bus: new versions,
 * deletions, recoveries, purges, access changes. Records whose events did not
 * land are named by sequence number, so Lambda retries from the first of
 * them; after its retries (bisecting) the rest goes to the on-failure queue.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { publisher, vaultUrl } = container();
  const outcome = await publishRecordEvents(tableStreamEvents(event.Records, vaultUrl), publisher);
  if (outcome.failedSequenceNumbers.length > 0) {
    // Counts and error codes only: never an image.
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'vault events not published; the batch will be retried from the first of them',
        records: event.Records.length,
        failed: outcome.failedSequenceNumbers.length,
        problems: outcome.problems,
      }),
    );
  }
  return { batchItemFailures: outcome.failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
};
