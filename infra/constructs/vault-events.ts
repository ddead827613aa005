import { type Acknowledgment, Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { expiryIndex, HEAD_SK, VERSION_SK_PREFIX } from '#lib/store/table-schema.ts';
import { OperationFunction } from './operation-function.ts';
import { sweepSchedule } from './sweep-schedule.ts';
import type { VaultTable } from './vault-table.ts';

export interface VaultEventsProps {
  /** The main table: its stream gives object and access events; its expiry index feeds the sweep. */
  readonly table: VaultTable;
  /** The audit table (with a NEW_IMAGE stream): refused requests become AccessDenied. */
  readonly auditTable: ITable;
  /** Vault hosts are {vault}.{vaultDomain}: the base of each event's `Id`. */
  readonly vaultDomain: string;
  /** Folder holding package.json, package-lock.json and functions/. */
  readonly projectRoot: string;
  /** @default 'arca-vault-events' */
  readonly eventBusName?: string;
}

/**
 * Vault events on an EventBridge bus (source `arca.keyvault`, detail-type the
 * Event Grid event type, detail the envelope): a function on the main table's
 * stream, one on the audit table's, and the expiry sweep every 15 minutes by
 * EventBridge Scheduler. Stream batches are retried (bisecting) and what
 * still fails is parked in an on-failure queue, with the sweep's failed
 * invocations. Each function may put events on this bus and read only what
 * it maps; none can read a sealed value's key (the vault KEK is not granted).
 */
export class VaultEvents extends Construct {
  readonly bus: EventBus;
  /** Stream batches and sweep invocations that failed after their retries. */
  readonly failed: Queue;
  readonly tableEvents: OperationFunction;
  readonly accessDenied: OperationFunction;
  readonly sweep: OperationFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: VaultEventsProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: props.eventBusName ?? 'arca-vault-events' });
    this.failed = new Queue(this, 'Failed', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failed).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the event stream consumers and the sweep.',
    });

    const table = props.table.table;
    // Each function is told only what it uses (lib/events/events-config.ts).
    const bus = { ARCA_EVENT_BUS_NAME: this.bus.eventBusName };
    const domain = { ARCA_VAULT_DOMAIN: props.vaultDomain };
    const fn = (id: string, handlerFile: string, description: string, environment: Record<string, string>) =>
      new OperationFunction(this, id, {
        handlerFile,
        projectRoot: props.projectRoot,
        description,
        environment,
      });

    this.tableEvents = fn(
      'PublishTableEvents',
      'functions/events/publish-table-events.ts',
      'Arca events: new versions, deletions, recoveries, purges and access changes, from the table stream',
      { ...bus, ...domain },
    );
    // Only the records that can mean an event (vault-events.ts) invoke the function.
    this.tableEvents.function.addEventSource(
      new DynamoEventSource(table, {
        ...streamSettings(this.failed),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(VERSION_SK_PREFIX) } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: { Keys: { sk: { S: FilterRule.or(HEAD_SK, '#vault') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('REMOVE'),
            dynamodb: { Keys: { sk: { S: FilterRule.isEqual(HEAD_SK) } } },
          }),
        ],
      }),
    );

    this.accessDenied = fn(
      'PublishAccessDenied',
      'functions/events/publish-access-denied.ts',
      'Arca events: AccessDenied for requests refused with 403, from the audit table stream',
      bus,
    );
    this.accessDenied.function.addEventSource(
      new DynamoEventSource(props.auditTable, {
        ...streamSettings(this.failed),
        // Refusals are failures; successes (nearly every record) never invoke the function.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { resultType: { S: FilterRule.isEqual('Failure') } } },
          }),
        ],
      }),
    );

    this.sweep = fn(
      'ExpirySweep',
      'functions/events/expiry-sweep.ts',
      'Arca events: NearExpiry and Expired, from the expiry index, every 15 minutes',
      { ...bus, ...domain, ARCA_TABLE_NAME: table.tableName },
    );
    // A sweep marks and publishes every object due in the window; give it room beyond the handlers' 10 s.
    (this.sweep.function.node.defaultChild as CfnFunction).timeout = 120;
    this.grantExpirySweep(props.table, this.sweep);
    this.schedule = sweepSchedule(this, {
      sweep: this.sweep.function,
      interval: Duration.minutes(15),
      description: 'the expiry sweep (NearExpiry and Expired events)',
      deadLetterQueue: this.failed,
    });

    for (const publisher of [this.tableEvents, this.accessDenied, this.sweep]) {
      this.bus.grantPutEventsTo(publisher);
    }
    for (const consumer of [this.tableEvents, this.accessDenied]) {
      acknowledge(consumer, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Stream consumers: dynamodb:ListStreams supports no resource-level scoping; active tracing ' +
          '(xray:PutTraceSegments) neither.',
      });
    }
  }

  /**
   * The sweep queries the expiry index (no other index, no item reads) and
   * writes, reads and deletes only notification markers: items whose key
   * starts with `#notified/`.
   */
  private grantExpirySweep(vaultTable: VaultTable, grantee: IGrantable): void {
    const table = vaultTable.table;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${expiryIndex.indexName}`],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#notified/*'] } },
      }),
    );
    // The table is encrypted under its own key (not the vault KEK).
    vaultTable.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
  }
}

/** Lambda's stream settings for both consumers: partial failures, bisecting, bounded retries, a DLQ. */
function streamSettings(failed: Queue) {
  return {
    startingPosition: StartingPosition.TRIM_HORIZON,
    batchSize: 100,
    maxBatchingWindow: Duration.seconds(1),
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: 8,
    maxRecordAge: Duration.days(1),
    onFailure: new SqsDlq(failed),
  };
}

/** Findings are acknowledged on the grantee's role, where the statements land, and nowhere else. */
function acknowledge(grantee: IGrantable, ...rules: Acknowledgment[]): void {
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) Validations.of(principal).acknowledge(...rules);
}
