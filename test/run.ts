/**
 * `npm test`: starts what the tests share — one DynamoDB Local (in memory;
 * each test file uses tables of its own) and a local CA that clients trust
 * through NODE_EXTRA_CA_CERTS (read only at process start, hence this
 * wrapper) — then runs node's test runner over test/ and stops them again.
 * Pass file paths to run only those.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { ensureLocalCa } from '../lib/local/local-ca.ts';

const root = join(import.meta.dirname, '..');
const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : testFiles(join(root, 'test'));

const work = mkdtempSync(join(tmpdir(), 'arca-test-'));
const tls = await ensureLocalCa(join(work, 'tls'));
const dynamo = await startDynamoDbLocal();

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_EXTRA_CA_CERTS: tls.caCertPath,
    ARCA_TEST_TLS_DIR: join(work, 'tls'),
    ARCA_TEST_DYNAMODB_ENDPOINT: dynamo.endpoint,
  },
});
const code: number = await new Promise((done) =>
  child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0))),
);
await dynamo.stop();
rmSync(work, { recursive: true, force: true });
process.exit(code);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => relative(root, join(dir, f)))
    .sort();
}
