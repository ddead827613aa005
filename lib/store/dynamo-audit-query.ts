import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '../audit/audit-record.ts';
import type { Page } from '../secrets/model.ts';
import type { AuditTable } from './audit-items.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';

export interface AuditQuery {
  readonly vault: string;
  /** ISO times; the range is at most 31 days. */
  readonly from: string;
  readonly to: string;
  readonly operationName?: string;
  readonly caller?: string;
  readonly resultType?: string;
  readonly maxResults: number;
  readonly token?: string;
}

const DAY_MS = 86_400_000;

/**
 * Reads of the audit table for the query API: only its handler loads this
 * (a read handler's bundle carries the audit writer alone).
 */
export class DynamoAuditQuery {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly table: AuditTable,
  ) {}

  /** A vault's records in a time range, oldest first, filtered and paged. */
  async query(q: AuditQuery): Promise<Page<AuditRecord>> {
    const position = q.token
      ? decodePageToken(q.token, 'after', /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[\w-]+$/)
      : undefined;
    const records: AuditRecord[] = [];
    const start = Date.parse((position ?? q.from).slice(0, 10));
    for (let day = start; day <= Date.parse(q.to) && records.length <= q.maxResults; day += DAY_MS) {
      const pk = `${q.vault}/${new Date(day).toISOString().slice(0, 10)}`;
      let exclusive: Record<string, { S: string }> | undefined;
      do {
        const filters: string[] = [];
        const values: Record<string, { S: string }> = {
          ':pk': { S: pk },
          ':from': { S: position ?? q.from },
          ':to': { S: `${q.to}~` },
        };
        const optional = { operationName: q.operationName, caller: q.caller, resultType: q.resultType };
        for (const [field, value] of Object.entries(optional)) {
          if (!value) continue;
          filters.push(`${field} = :${field}`);
          values[`:${field}`] = { S: value };
        }
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: values,
            ...(filters.length && { FilterExpression: filters.join(' AND ') }),
            ...(exclusive && { ExclusiveStartKey: exclusive }),
          }),
        );
        for (const item of out.Items ?? []) {
          if (position && item.sk?.S === position) continue;
          records.push(JSON.parse(item.record?.S ?? '{}'));
        }
        exclusive = out.LastEvaluatedKey as typeof exclusive;
      } while (exclusive && records.length <= q.maxResults);
    }
    if (records.length <= q.maxResults) return { items: records };
    const kept = records.slice(0, q.maxResults);
    const last = kept[kept.length - 1] as AuditRecord;
    return { items: kept, nextToken: encodePageToken({ after: `${last.time}#${last.id}` }) };
  }
}
