import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AuditRecord } from '#lib/audit/audit-record.ts';

/** An audit record as a handler would write it; identifiers only. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: randomUUID(),
    time: '2026-03-01T12:00:00.000Z',
    resourceId: '/providers/Microsoft.KeyVault/vaults/payments',
    vault: 'payments',
    operationName: 'SecretGet',
    operationVersion: '2026-04-01',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    resultDescription: '',
    durationMs: 12,
    callerIpAddress: '192.0.2.10',
    correlationId: randomUUID(),
    identity: { claim: { oid: '00000000-0000-0000-0000-0000000000aa' } },
    properties: {
      clientInfo: 'azsdk-js-keyvault-secrets/4.12.0',
      requestUri: 'https://payments.vault.example.com/secrets/db-password?api-version',
      httpStatusCode: 200,
      id: 'https://payments.vault.example.com/secrets/db-password/0123456789abcdef',
    },
    ...overrides,
  };
}

/** A stream record of the audit table, as Lambda delivers it. */
export function streamRecord(
  record: AuditRecord | undefined,
  sequenceNumber: string,
  eventName: DynamoDBRecord['eventName'] = 'INSERT',
): DynamoDBRecord {
  return {
    eventID: `event-${sequenceNumber}`,
    eventName,
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
    awsRegion: 'eu-west-1',
    dynamodb: {
      SequenceNumber: sequenceNumber,
      StreamViewType: 'NEW_IMAGE',
      Keys: { pk: { S: 'payments/2026-03-01' }, sk: { S: `t#${sequenceNumber}` } },
      ...(record && { NewImage: { record: { S: JSON.stringify(record) } } }),
    },
  };
}

export const streamEvent = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
