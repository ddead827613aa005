/**
 * Run in a child process by test/e2e/keys-hsm.test.ts (a process's handlers
 * read their configuration once): a local vault with ARCA_HSM=off, asked for
 * each HSM key type (created, and imported with Hsm: true) and for a software
 * key through the unmodified KeyClient.
 * Prints one JSON line: what each call answered.
 */
import { randomBytes } from 'node:crypto';
import type { RestError } from '@azure/core-rest-pipeline';
import { nodeRsaKey, sdkJwkOf } from './keys.ts';
import { localVaultFixture } from './local-vault-fixture.ts';

const fixture = await localVaultFixture({ ARCA_HSM: 'off' });
const answers: Record<string, { status: number; code?: string; message?: string }> = {};
try {
  const client = fixture.keyClient();
  const attempts: Record<string, () => Promise<unknown>> = {
    'RSA-HSM': () => client.createRsaKey('off-rsa', { hsm: true }),
    'EC-HSM': () => client.createEcKey('off-ec', { hsm: true }),
    'oct-HSM': () => client.createOctKey('off-oct', { hsm: true }),
    'import RSA-HSM': () =>
      client.importKey('off-import-rsa', sdkJwkOf(nodeRsaKey(2048).jwk), { hardwareProtected: true }),
    'import oct-HSM': () =>
      client.importKey('off-import-oct', { kty: 'oct', k: randomBytes(32) }, { hardwareProtected: true }),
    RSA: () => client.createRsaKey('off-software'),
  };
  for (const [kty, attempt] of Object.entries(attempts)) {
    try {
      await attempt();
      answers[kty] = { status: 200 };
    } catch (error) {
      const e = error as RestError;
      answers[kty] = { status: e.statusCode ?? 0, code: e.code as string, message: e.message };
    }
  }
} finally {
  await fixture.close();
}
process.stdout.write(`${JSON.stringify(answers)}\n`);
