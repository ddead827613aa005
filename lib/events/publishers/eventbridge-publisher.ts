import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { errorName } from '../stream-events.ts';
import type { EventPublisher, PublishResult, VaultEvent } from '../vault-events.ts';

/** PutEvents takes at most 10 entries a call (256 KB in all; an event here is well under 1 KB). */
const MAX_ENTRIES = 10;
export const EVENT_SOURCE = 'arca.keyvault';

/**
 * Events to an EventBridge bus: source `arca.keyvault`, detail-type the
 * event type, detail the whole Event Grid envelope (so rules match on
 * `detail.data.VaultName` and consumers drop repeats by `detail.id`;
 * EventBridge's own event id differs on every put).
 */
export class EventBridgePublisher implements EventPublisher {
  readonly name = 'eventbridge';

  constructor(
    private readonly client: Pick<EventBridgeClient, 'send'>,
    private readonly eventBusName: string,
  ) {}

  async publish(events: readonly VaultEvent[]): Promise<PublishResult> {
    const failedIds: string[] = [];
    const problems = new Set<string>();
    for (let i = 0; i < events.length; i += MAX_ENTRIES) {
      const batch = events.slice(i, i + MAX_ENTRIES);
      try {
        const out = await this.client.send(
          new PutEventsCommand({
            Entries: batch.map((event) => ({
              EventBusName: this.eventBusName,
              Source: EVENT_SOURCE,
              DetailType: event.eventType,
              Detail: JSON.stringify(event),
              Time: new Date(event.eventTime),
            })),
          }),
        );
        // Entries answer in request order; one without an EventId did not land.
        const entries = out.Entries ?? [];
        batch.forEach((event, j) => {
          const entry = entries[j];
          if (entry?.EventId && !entry.ErrorCode) return;
          failedIds.push(event.id);
          problems.add(entry?.ErrorCode ?? 'NoEntryResult');
        });
      } catch (error) {
        failedIds.push(...batch.map((e) => e.id));
        problems.add(errorName(error));
      }
    }
    return { failedIds, ...(problems.size > 0 && { problems: [...problems] }) };
  }
}
