import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditRecord } from '../audit/audit-record.ts';
import { ServiceUnavailableError } from '../errors.ts';
import { type AuditTable, auditItem } from './audit-items.ts';

/** AuditLog on its DynamoDB table; any failure to store is a 503, never a silent loss. */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly table: AuditTable,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.table.name, Item: auditItem(this.table, record) }),
      );
    } catch (error) {
      throw new ServiceUnavailableError(
        `The audit record could not be made durable (${(error as Error).name}); nothing was disclosed or changed.`,
      );
    }
  }
}
