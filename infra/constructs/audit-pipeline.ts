import { type Acknowledgment, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import {
  Compression,
  DeliveryStream,
  StreamEncryption as DeliveryStreamEncryption,
  S3Bucket,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, LogStream, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectLockRetention,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OperationFunction } from './operation-function.ts';

export interface AuditPipelineProps {
  /** Encrypts the audit table at rest: the vault table's key (never the KEK). */
  readonly tableKey: IKey;
  /** Folder holding package.json and functions/ (the shipper is bundled like the handlers). */
  readonly projectRoot: string;
  /** How long CloudWatch Logs keeps records. @default one year */
  readonly logRetention?: RetentionDays;
  /** Object Lock in compliance mode: no one, root included, deletes an archived object sooner. @default 365 */
  readonly archiveRetentionDays?: number;
  /** @default 90 */
  readonly glacierInstantRetrievalAfterDays?: number;
  /** @default 365 */
  readonly deepArchiveAfterDays?: number;
  /** The CloudWatch Logs stream the shipper writes (ARCA_AUDIT_LOG_STREAM). @default 'audit' */
  readonly logStreamName?: string;
}

/** Retries of a failing batch before its position goes to the on-failure queue. */
const RETRY_ATTEMPTS = 10;

/**
 * Audit records from request to archive (DESIGN.md #8). Handlers write each
 * record to the audit table (queryable while hot, then removed by TTL); the
 * table's stream feeds the shipper, which delivers every record at least once
 * to Firehose (archived to S3 under Object Lock), a CloudWatch Logs group
 * (Logs Insights) and a Kinesis stream for subscribers. A batch that keeps
 * failing is retried, then its stream position (shard and sequence numbers,
 * not the records) goes to an encrypted queue; the records themselves stay in
 * the table for the hot window and can be shipped again from there.
 */
export class AuditPipeline extends Construct {
  readonly table: Table;
  readonly shipper: OperationFunction;
  readonly failures: Queue;
  readonly archive: Bucket;
  readonly accessLogs: Bucket;
  readonly deliveryStream: DeliveryStream;
  readonly logGroup: LogGroup;
  readonly logStreamName: string;
  readonly subscriberStream: Stream;

  constructor(scope: Construct, id: string, props: AuditPipelineProps) {
    super(scope, id);
    const retentionDays = props.archiveRetentionDays ?? 365;
    const glacierAfter = props.glacierInstantRetrievalAfterDays ?? 90;
    const deepArchiveAfter = props.deepArchiveAfterDays ?? 365;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`archiveRetentionDays must be a positive integer, not ${retentionDays}`);
    }
    if (!(glacierAfter >= 1 && deepArchiveAfter >= glacierAfter + 90)) {
      throw new Error(
        'deepArchiveAfterDays must come at least 90 days after glacierInstantRetrievalAfterDays',
      );
    }
    this.logStreamName = props.logStreamName ?? 'audit';

    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      stream: StreamViewType.NEW_IMAGE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.tableKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const archiveKey = rotatedKey(
      this,
      'ArchiveKey',
      'Arca: audit archive (S3 objects and the Firehose stream)',
    );
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      // Server access logs can only be delivered to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(Math.max(retentionDays, 365)) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.accessLogs, {
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the audit archive; logging it into itself would loop.',
    });
    this.archive = new Bucket(this, 'Archive', {
      encryption: BucketEncryption.KMS,
      encryptionKey: archiveKey,
      bucketKeyEnabled: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(retentionDays)),
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-archive/',
      lifecycleRules: [
        {
          transitions: [
            {
              storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(glacierAfter),
            },
            { storageClass: StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(deepArchiveAfter) },
          ],
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deliveryStream = new DeliveryStream(this, 'Firehose', {
      destination: new S3Bucket(this.archive, {
        compression: Compression.GZIP,
        encryptionKey: archiveKey,
        dataOutputPrefix: 'records/!{timestamp:yyyy/MM/dd}/',
        errorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
        bufferingInterval: Duration.seconds(60),
      }),
      encryption: DeliveryStreamEncryption.customerManagedKey(archiveKey),
    });
    // The finding is reported on the stack, where CloudFormation puts mappings.
    acknowledge(Stack.of(this), {
      id: 'CloudFormation-Validate::W7001',
      reason:
        'The Firehose L2 always adds a mapping of Firehose CIDR blocks, referenced only by destinations ' +
        'that need network access (Redshift, OpenSearch); the S3 destination needs none.',
    });
    const firehoseGrants =
      'Grants the Firehose L2 gives its roles, scoped to this one archive bucket and its key: ' +
      'S3Bucket destinations always take bucket.grantReadWrite, and Object Lock in compliance mode ' +
      'keeps any retained object version from being deleted or overwritten whatever the role may do.';
    acknowledge(
      this.deliveryStream,
      ...[
        'Action::s3:Abort*',
        'Action::s3:DeleteObject*',
        'Action::s3:GetBucket*',
        'Action::s3:GetObject*',
        'Action::s3:List*',
        `Resource::<${Stack.of(this).getLogicalId(this.archive.node.defaultChild as CfnBucket)}.Arn>/*`,
        'Action::kms:GenerateDataKey*',
        'Action::kms:ReEncrypt*',
      ].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: firehoseGrants })),
    );

    const logsKey = rotatedKey(this, 'LogsKey', 'Arca: audit records in CloudWatch Logs');
    const { region, account, partition } = Stack.of(this);
    // CloudWatch Logs encrypts with the key itself, so the key policy must let it (for this account's groups only).
    logsKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
          },
        },
      }),
    );
    this.logGroup = new LogGroup(this, 'Records', {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      encryptionKey: logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup.node.addDependency(logsKey);
    new LogStream(this, 'RecordsStream', {
      logGroup: this.logGroup,
      logStreamName: this.logStreamName,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.subscriberStream = new Stream(this, 'Subscribers', {
      streamMode: StreamMode.ON_DEMAND,
      encryption: StreamEncryption.KMS,
      encryptionKey: rotatedKey(this, 'SubscribersKey', 'Arca: audit records on the Kinesis stream'),
    });
    acknowledge(this.subscriberStream, {
      id: 'AwsSolutions-KDS3',
      reason:
        'A key of its own (not aws/kinesis): subscribers are granted kms:Decrypt on it alone, ' +
        'which opens neither the archive nor the vault table.',
    });

    this.failures = new Queue(this, 'ShipFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Its messages say where to replay from; they outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.failures, {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the on-failure destination of the audit stream mapping: it is the dead-letter queue.',
    });

    this.shipper = new OperationFunction(this, 'Shipper', {
      handlerFile: 'functions/streams/audit-ship.ts',
      projectRoot: props.projectRoot,
      description: 'Arca audit shipping: audit table stream to Firehose, CloudWatch Logs and Kinesis',
      environment: {
        ARCA_AUDIT_FIREHOSE_STREAM: this.deliveryStream.deliveryStreamName,
        ARCA_AUDIT_LOG_GROUP: this.logGroup.logGroupName,
        ARCA_AUDIT_LOG_STREAM: this.logStreamName,
        ARCA_AUDIT_KINESIS_STREAM: this.subscriberStream.streamName,
      },
    });
    this.deliveryStream.grantPutRecords(this.shipper);
    this.logGroup.grantWrite(this.shipper);
    this.subscriberStream.grantWrite(this.shipper);
    this.shipper.function.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.failures),
        // TTL expiry (REMOVE) is not a record to ship.
        filters: [FilterCriteria.filter({ eventName: FilterRule.or('INSERT', 'MODIFY') })],
      }),
    );
    const subscriberKeyGrant =
      "Kinesis grantWrite on the subscriber stream: data-key actions on that stream's own key only.";
    acknowledge(
      this.shipper.grantPrincipal,
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'dynamodb:ListStreams, added by the stream event source, supports no resource-level scoping.',
      },
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: subscriberKeyGrant },
      { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: subscriberKeyGrant },
    );
  }

  /**
   * What every operation function needs: put its requests' records (reads
   * included: a read's record is written before it answers) and query them
   * (the audit query route). No update, delete or scan.
   */
  grantWriteAndQuery(grantee: IGrantable): Grant {
    const grant = this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:Query');
    this.table.encryptionKey?.grant(
      grantee,
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    );
    return grant;
  }
}

function rotatedKey(scope: Construct, id: string, description: string): Key {
  return new Key(scope, id, { description, enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
}

/** Findings are acknowledged where they arise, and nowhere else. */
function acknowledge(scope: unknown, ...rules: Acknowledgment[]): void {
  if (Construct.isConstruct(scope)) Validations.of(scope).acknowledge(...rules);
}
