import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { parseEventsConfig, vaultUrlFor } from '#lib/events/events-config.ts';
import { expirySweepOver, type SweepResult } from '#lib/events/expiry-sweep.ts';
import { EventBridgePublisher } from '#lib/events/publishers/eventbridge-publisher.ts';
import { DynamoExpiryIndex } from '#lib/store/dynamo-expiry-index.ts';
import { DynamoKeyStore } from '#lib/store/dynamo-key-store.ts';

let sweep: (() => Promise<SweepResult>) | undefined;

/** Made on the first run of a container, from its environment. */
function containerSweep() {
  if (sweep) return sweep;
  const cfg = parseEventsConfig(process.env, ['ARCA_EVENT_BUS_NAME', 'ARCA_TABLE_NAME', 'ARCA_VAULT_DOMAIN']);
  const dynamo = new DynamoDBClient({});
  sweep = expirySweepOver(
    new DynamoExpiryIndex(dynamo, cfg.ARCA_TABLE_NAME),
    new EventBridgePublisher(new EventBridgeClient({}), cfg.ARCA_EVENT_BUS_NAME),
    vaultUrlFor(cfg.ARCA_VAULT_DOMAIN),
    // Keys' rotation policies set their NearExpiry threshold (their Notify action).
    new DynamoKeyStore(dynamo, cfg.ARCA_TABLE_NAME),
  );
  return sweep;
}

/**
 * Run by EventBridge Scheduler every 15 minutes: NearExpiry and Expired for
 * what the expiry index holds. Safe to run twice or at once (see
 * makeExpirySweep). Events that could not be published were unmarked; the run
 * fails so that the failure shows, and the next run publishes them.
 */
export const handler = async (): Promise<{ due: number; published: number }> => {
  const result = await containerSweep()();
  const summary = { due: result.due, published: result.published.length, failed: result.failed.length };
  console.log(JSON.stringify({ level: 'info', msg: 'expiry sweep', ...summary }));
  if (result.failed.length > 0) throw new Error(`${result.failed.length} expiry events were not published`);
  return { due: summary.due, published: summary.published };
};
