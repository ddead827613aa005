import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parseEventsConfig } from '#lib/events/events-config.ts';
import { EventBridgePublisher } from '#lib/events/publishers/eventbridge-publisher.ts';
import { auditStreamEvents, publishRecordEvents } from '#lib/events/stream-events.ts';

let publisher: EventBridgePublisher | undefined;

/** Made on the first batch of a container, from its environment. */
function containerPublisher(): EventBridgePublisher {
  if (publisher) return publisher;
  const cfg = parseEventsConfig(process.env, ['ARCA_EVENT_BUS_NAME']);
  publisher = new EventBridgePublisher(new EventBridgeClient({}), cfg.ARCA_EVENT_BUS_NAME);
  return publisher;
}

/**
 * The audit table's stream (filtered to failed requests by the event source
 * mapping), as Arca.KeyVault.AccessDenied events for the refused ones.
 * Failures are named by sequence number, as in publish-table-events.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const outcome = await publishRecordEvents(auditStreamEvents(event.Records), containerPublisher());
  if (outcome.failedSequenceNumbers.length > 0) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'access-denied events not published; the batch will be retried from the first of them',
        records: event.Records.length,
        failed: outcome.failedSequenceNumbers.length,
        problems: outcome.problems,
      }),
    );
  }
  return { batchItemFailures: outcome.failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
};
