import { type Acknowledgment, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { collectionIndex, expiryIndex, tableKeys } from '#lib/store/table-schema.ts';

/**
 * The one DynamoDB table, built from the key schema the store uses. It holds
 * only ciphertext and identifiers, yet it is the vault: on-demand, point-in-time
 * recovery, deletion protection, kept when the stack goes away, and its stream
 * feeds replication and audit shipping.
 *
 * It is encrypted at rest under a key of its own, not under the vault
 * key-encryption key: DynamoDB grants give kms:Decrypt on the table key to
 * every reader (stream consumers such as audit shipping included), and none of
 * them should thereby be able to unwrap data keys.
 */
export class VaultTable extends Construct {
  readonly table: Table;
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      alias: 'alias/arca/table',
      description: 'Arca: encryption at rest of the vault table',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableKeys.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableKeys.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: collectionIndex.indexName,
      partitionKey: { name: collectionIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: collectionIndex.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...collectionIndex.nonKeyAttributes],
    });
    this.table.addGlobalSecondaryIndex({
      indexName: expiryIndex.indexName,
      partitionKey: { name: expiryIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: expiryIndex.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...expiryIndex.nonKeyAttributes],
    });
  }

  /** Reads items and queries the collection index; no writes. */
  grantRead(grantee: IGrantable): Grant {
    const grant = this.table.grantReadData(grantee);
    this.acknowledgeIndexWildcard(grantee);
    return grant;
  }

  /** Reads and writes items (transactions included). */
  grantReadWrite(grantee: IGrantable): Grant {
    const grant = this.table.grantReadWriteData(grantee);
    this.acknowledgeIndexWildcard(grantee);
    const tableKeyReason =
      'DynamoDB grant for the table encryption key (encryption at rest), scoped to that one key ARN; ' +
      'it does not reach the vault key-encryption key.';
    acknowledge(
      grantee,
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: tableKeyReason },
      { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: tableKeyReason },
    );
    return grant;
  }

  private acknowledgeIndexWildcard(grantee: IGrantable): void {
    const cfnTable = this.table.node.defaultChild as CfnTable;
    const reason =
      'Item access covers the indexes of this one table (table/index/*): listing queries byCollection.';
    const tableId = Stack.of(this).getLogicalId(cfnTable);
    acknowledge(grantee, { id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`, reason });
    // A grantee in another stack (an area's nested stack) sees the table's ARN as the nested
    // stack parameter CDK makes for it once references are resolved (at synth), named
    // reference-to-{the table's unique id}Arn; before that, as the GetAtt above.
    const principal: unknown = grantee.grantPrincipal;
    if (Construct.isConstruct(principal) && Stack.of(principal) !== Stack.of(this)) {
      const parameter = `referenceto${Names.nodeUniqueId(cfnTable.node)}Arn`;
      acknowledge(grantee, { id: `AwsSolutions-IAM5[Resource::<${parameter}>/index/*]`, reason });
    }
  }
}

/** Findings are acknowledged on the grantee's role, where the statements land, and nowhere else. */
function acknowledge(grantee: IGrantable, ...rules: Acknowledgment[]): void {
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) Validations.of(principal).acknowledge(...rules);
}
