import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableIfMissing } from '#lib/store/create-table.ts';

/** What test/run.ts shares with every test file. */
export function testEnvironment() {
  const endpoint = process.env.ARCA_TEST_DYNAMODB_ENDPOINT;
  const tlsDir = process.env.ARCA_TEST_TLS_DIR;
  if (!endpoint || !tlsDir)
    throw new Error('Run the tests through `npm test` (test/run.ts), which starts DynamoDB Local.');
  return { endpoint, tlsDir };
}

export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: testEnvironment().endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** A fresh table of the real schema on the shared DynamoDB Local. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const name = `t-${randomBytes(6).toString('hex')}`;
  await createTableIfMissing(client, name);
  return name;
}

/** A data folder that already holds the run's CA, so clients trust the vault's certificate. */
export function dataDirWithTestCa(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'arca-vault-'));
  cpSync(testEnvironment().tlsDir, join(dir, 'tls'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
