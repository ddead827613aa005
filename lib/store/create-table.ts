import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { collectionIndex, expiryIndex, tableKeys } from './table-schema.ts';

/**
 * Creates the table when it is missing (local mode and tests; on AWS the CDK
 * stack owns the table). Same schema as infra/, from table-schema.ts.
 */
export function createTableIfMissing(client: DynamoDBClient, tableName: string): Promise<boolean> {
  return createIfMissing(client, {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: tableKeys.partitionKey, AttributeType: 'S' },
      { AttributeName: tableKeys.sortKey, AttributeType: 'S' },
      { AttributeName: collectionIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: collectionIndex.sortKey, AttributeType: 'S' },
      { AttributeName: expiryIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: expiryIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: collectionIndex.indexName,
        KeySchema: [
          { AttributeName: collectionIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: collectionIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...collectionIndex.nonKeyAttributes] },
      },
      {
        IndexName: expiryIndex.indexName,
        KeySchema: [
          { AttributeName: expiryIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: expiryIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...expiryIndex.nonKeyAttributes] },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
}

/** The audit table: records by vault and day, a stream for the shipper, TTL for the hot window. */
export async function createAuditTableIfMissing(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const created = await createIfMissing(client, {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  });
  if (!created) return false;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
    }),
  );
  return true;
}

/** Creates a table unless one of that name exists; waits until it is active. */
async function createIfMissing(client: DynamoDBClient, input: CreateTableCommandInput): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    return false;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(new CreateTableCommand(input));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: input.TableName as string });
  return true;
}
