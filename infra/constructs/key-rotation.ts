import { Duration } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { POLICY_NOTICE_ATTRIBUTES } from '#lib/store/dynamo-key-store.ts';
import type { AuditPipeline } from './audit-pipeline.ts';
import type { HsmUse, KeyHsm } from './key-hsm.ts';
import { OperationFunction } from './operation-function.ts';
import { sweepSchedule } from './sweep-schedule.ts';
import type { VaultKek } from './vault-kek.ts';
import type { VaultTable } from './vault-table.ts';

export interface KeyRotationProps {
  readonly table: VaultTable;
  readonly kek: VaultKek;
  readonly audit: AuditPipeline;
  /** Where HSM keys live: rotating one makes a new one there, as RotateKey does. */
  readonly keyHsm: KeyHsm;
  /** The operation functions' environment (lib/config.ts): the sweep runs the same key code. */
  readonly environment: Readonly<Record<string, string>>;
  /** Folder holding package.json, package-lock.json and functions/. */
  readonly projectRoot: string;
  /** Where sweep invocations that failed after their retries are parked. */
  readonly deadLetterQueue: IQueue;
  /** The expiry sweep: it reads the Notify action of rotation policies (and nothing else of a key). */
  readonly expirySweep: IGrantable;
  /** @default Duration.hours(1) */
  readonly interval?: Duration;
}

/** What rotating a key does with the HSM: RotateKey's uses (functions/keys/rotate-key.ts). */
const ROTATION_HSM_USES: readonly HsmUse[] = ['create'];

/**
 * Key rotation policies on AWS: the rotation sweep
 * (functions/events/key-rotation-sweep.ts), invoked every hour by EventBridge
 * Scheduler, rotates the keys whose policy's Rotate action is due. It runs
 * RotateKey's code with RotateKey's permissions (the table, the KEK, audit
 * records, the HSM's create), and a sweep that runs twice or at once still
 * rotates a version once. The expiry sweep gets read access to the Notify
 * action of policies, so KeyNearExpiry fires at the policy's timeBeforeExpiry.
 */
export class KeyRotation extends Construct {
  readonly sweep: OperationFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: KeyRotationProps) {
    super(scope, id);
    const hsm = props.keyHsm;
    this.sweep = new OperationFunction(this, 'Sweep', {
      handlerFile: 'functions/events/key-rotation-sweep.ts',
      projectRoot: props.projectRoot,
      description: 'Arca key rotation: rotates the keys whose rotation policy is due, every hour',
      environment: { ...props.environment, ...hsm.environment(ROTATION_HSM_USES) },
      ...hsm.functionOptions(ROTATION_HSM_USES),
    });
    // Each rotation makes a key (an HSM key takes a round trip or more); give a sweep room.
    (this.sweep.function.node.defaultChild as CfnFunction).timeout = 300;
    hsm.grant(this.sweep, ROTATION_HSM_USES);
    props.table.grantReadWrite(this.sweep);
    props.kek.grantWrapAndUnwrap(this.sweep);
    props.audit.grantWriteAndQuery(this.sweep);
    this.schedule = sweepSchedule(this, {
      sweep: this.sweep.function,
      interval: props.interval ?? Duration.hours(1),
      description: 'the key rotation sweep (rotation policies)',
      deadLetterQueue: props.deadLetterQueue,
    });
    grantPolicyNotices(props.table, props.expirySweep);
  }
}

/**
 * BatchGetItem of rotation policy items (pk `{vault}/keys/{name}`, sk
 * '#rotationpolicy'), held to their key and policy attributes: the expiry
 * sweep can read when a key wants its near-expiry notice, never a key's
 * sealed part (heads and versions share those partitions).
 */
function grantPolicyNotices(vaultTable: VaultTable, grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['dynamodb:BatchGetItem'],
      resources: [vaultTable.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*/keys/*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...POLICY_NOTICE_ATTRIBUTES] },
        StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
      },
    }),
  );
}
