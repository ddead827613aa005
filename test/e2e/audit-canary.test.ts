import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { format } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../support/environment.ts';
import { type RawResponse, rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/**
 * DESIGN.md #8, "records hold identifiers, never values": canary values are
 * planted through every write route (secret values, restore blobs, values in
 * fields a route ignores or refuses, query values, tokens), then every audit
 * record, every line the process writes (the gateway, the handlers and the
 * issuer all run in this process) and every response is searched for them,
 * raw and as base64, base64url and hex. Responses may carry a secret value
 * only where the API discloses it: set and get.
 */

const DATA = 'api-version=7.6';
const MGMT = 'api-version=2024-11-01';
const AUTHZ = '/providers/Microsoft.Authorization';
const READER_ROLE = '21090545-7ca7-4776-b22c-e363652d74d2';

const canary = (kind: string) => `CANARY-${kind}-${randomBytes(12).toString('hex')}`;

/** The canary as it could appear: raw, hex, and base64/base64url at each of the three byte alignments. */
function forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out = new Set([value, bytes.toString('hex'), bytes.toString('hex').toUpperCase()]);
  for (const encoding of ['base64', 'base64url'] as const) {
    for (let shift = 0; shift < 3; shift++) {
      const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
        .toString(encoding)
        .replace(/=+$/, '');
      // Drop the characters the leading pad or the unknown next bytes can change.
      const core = encoded.slice(shift === 0 ? 0 : 4, encoded.length - 4);
      if (core.length >= 16) out.add(core);
    }
  }
  return [...out];
}

/** What the process writes, while the capture runs; writes still go through. */
class OutputCapture {
  readonly chunks: string[] = [];
  private restore: (() => void)[] = [];

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      const chunks = this.chunks;
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof stream.write;
      this.restore.push(() => {
        stream.write = original;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const) {
      const original = console[method];
      console[method] = (...args: unknown[]) => {
        this.chunks.push(format(...args));
        return (original as (...a: unknown[]) => void).apply(console, args);
      };
      this.restore.push(() => {
        console[method] = original;
      });
    }
  }

  stop(): void {
    for (const undo of this.restore.reverse()) undo();
    this.restore = [];
  }

  text(): string {
    return this.chunks.join('');
  }
}

interface Exchange {
  readonly label: string;
  readonly operation: string;
  readonly res: RawResponse;
}

describe('canaries: no value, blob or token reaches an audit record or a log line', () => {
  const capture = new OutputCapture();
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let token: string;
  let otherToken: string;
  let clientSecret: string;
  const exchanges: Exchange[] = [];

  /** Secret values: a response may carry these only where the API discloses a value (set, get). */
  const values: string[] = [];
  /** Backup blobs: a response may carry these only where the API hands one out (backup). */
  const blobs: string[] = [];
  /** Planted where nothing should keep or echo them: no response, record or log may carry them. */
  const never: string[] = [];
  /** Planted as query values: no record or log may carry them. */
  const queries: string[] = [];
  /** Bearer tokens and the client secret: no record or log may carry them. */
  const credentials: string[] = [];

  const call = async (
    operation: string,
    label: string,
    method: string,
    path: string,
    options: { body?: string; token?: string | null; contentType?: string; query?: string } = {},
  ): Promise<RawResponse> => {
    const q = canary('query');
    queries.push(q);
    const apiVersion = /^\/(vaults|deletedVaults)\b/.test(path) ? MGMT : DATA;
    const as = options.token === undefined ? token : options.token;
    const extra = options.query ? `&${options.query}` : '';
    const res = await rawRequest(`${base}${path}?${apiVersion}&canary=${q}${extra}`, {
      method,
      headers: {
        'content-type': options.contentType ?? 'application/json',
        'x-ms-client-request-id': randomUUID(),
        ...(as !== null && { authorization: `Bearer ${as}` }),
      },
      ...(options.body !== undefined && { body: options.body }),
    });
    exchanges.push({ label, operation, res });
    return res;
  };
  const json = (value: unknown) => JSON.stringify(value);
  const expectStatus = (res: RawResponse, status: number, what: string) =>
    assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);

  before(async () => {
    capture.start();
    console.log('canary-capture-self-test-stdout');
    process.stderr.write('canary-capture-self-test-stderr\n');
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    token = await fixture.token();
    clientSecret = fixture.info.clientSecret;
    const other = await fixture.vault.issuer.createClient('canary-other');
    otherToken = await fixture.vault.issuer.mintToken({ clientId: other.clientId });
    credentials.push(token, otherToken, clientSecret, other.clientSecret);

    // --- Secret values through set: a new secret, a new version, with non-canary tags and content type.
    const a1 = canary('value');
    const a2 = canary('value');
    const b1 = canary('value');
    values.push(a1, a2, b1);
    expectStatus(
      await call('SetSecret', 'set a', 'PUT', '/secrets/canary-a', { body: json({ value: a1 }) }),
      200,
      'set a',
    );
    const setA2 = await call('SetSecret', 'set a (new version)', 'PUT', '/secrets/canary-a', {
      body: json({ value: a2, contentType: 'text/plain', tags: { env: 'test' } }),
    });
    expectStatus(setA2, 200, 'set a v2');
    assert.ok(setA2.text.includes(a2), 'the set response carries the value (the API discloses it)');
    const versionA2 = String(setA2.json().id).split('/').pop();
    expectStatus(
      await call('SetSecret', 'set b', 'PUT', '/secrets/canary-b', { body: json({ value: b1 }) }),
      200,
      'set b',
    );

    // --- Values in requests the API refuses: wrong attributes, malformed JSON, too large, not a string.
    const refused = [canary('refused'), canary('refused'), canary('refused')];
    never.push(...refused);
    expectStatus(
      await call('SetSecret', 'set with bad attributes', 'PUT', '/secrets/canary-c', {
        body: json({ value: refused[0], attributes: { enabled: 'maybe' } }),
      }),
      400,
      'set with bad attributes',
    );
    expectStatus(
      await call('SetSecret', 'set with malformed JSON', 'PUT', '/secrets/canary-c', {
        body: `{"value": "${refused[1]}", `,
      }),
      400,
      'set malformed',
    );
    expectStatus(
      await call('SetSecret', 'set too large', 'PUT', '/secrets/canary-c', {
        body: json({ value: `${refused[2]} `.repeat(1200) }),
      }),
      400,
      'set too large',
    );
    const asTag = canary('refused');
    never.push(asTag);
    expectStatus(
      await call('SetSecret', 'set with a non-string value', 'PUT', '/secrets/canary-c', {
        body: json({ value: { nested: asTag } }),
      }),
      400,
      'set non-string',
    );

    // --- Update: non-canary tags and content type; a 'value' field, which update does not take.
    const ignored = canary('ignored');
    never.push(ignored);
    const update = await call(
      'UpdateSecret',
      'update with a value field',
      'PATCH',
      `/secrets/canary-a/${versionA2}`,
      {
        body: json({ value: ignored, contentType: 'application/x-canary', tags: { owner: 'tests' } }),
      },
    );
    assert.ok([200, 400].includes(update.status), `update: ${update.status} ${update.text.slice(0, 200)}`);
    const refusedUpdate = canary('refused');
    never.push(refusedUpdate);
    expectStatus(
      await call('UpdateSecret', 'update malformed', 'PATCH', `/secrets/canary-a/${versionA2}`, {
        body: `{"tags": {"k": "${refusedUpdate}"`,
      }),
      400,
      'update malformed',
    );

    // --- Backup and restore: a real blob, a canary posing as a blob, and a blob that is not base64url.
    const backup = await call('BackupSecret', 'backup b', 'POST', '/secrets/canary-b/backup');
    expectStatus(backup, 200, 'backup b');
    blobs.push(backup.json().value);
    expectStatus(await call('DeleteSecret', 'delete b', 'DELETE', '/secrets/canary-b'), 200, 'delete b');
    expectStatus(
      await call('PurgeDeletedSecret', 'purge b', 'DELETE', '/deletedsecrets/canary-b'),
      204,
      'purge b',
    );
    expectStatus(
      await call('RestoreSecret', 'restore b', 'POST', '/secrets/restore', {
        body: json({ value: blobs[0] }),
      }),
      200,
      'restore b',
    );
    const fakeBlob = canary('blob');
    never.push(fakeBlob);
    expectStatus(
      await call('RestoreSecret', 'restore a canary blob', 'POST', '/secrets/restore', {
        body: json({ value: Buffer.from(fakeBlob).toString('base64url') }),
      }),
      400,
      'restore canary blob',
    );
    const rawBlob = canary('blob');
    never.push(rawBlob);
    expectStatus(
      await call('RestoreSecret', 'restore a raw canary', 'POST', '/secrets/restore', {
        body: json({ value: rawBlob }),
      }),
      400,
      'restore raw canary',
    );
    const notBase64 = `${canary('blob')}!*`;
    never.push(notBase64);
    expectStatus(
      await call('RestoreSecret', 'restore not base64url', 'POST', '/secrets/restore', {
        body: json({ value: notBase64 }),
      }),
      400,
      'restore not base64url',
    );

    // --- Delete, recover, purge.
    expectStatus(await call('DeleteSecret', 'delete a', 'DELETE', '/secrets/canary-a'), 200, 'delete a');
    expectStatus(
      await call('RecoverDeletedSecret', 'recover a', 'POST', '/deletedsecrets/canary-a/recover'),
      200,
      'recover',
    );

    // --- Role assignments, vaults: canaries in fields these routes do not take.
    const stray = [canary('stray'), canary('stray'), canary('stray'), canary('stray'), canary('stray')];
    never.push(...stray);
    const assignment = randomUUID();
    expectStatus(
      await call('RoleAssignments_Create', 'assign', 'PUT', `${AUTHZ}/roleAssignments/${assignment}`, {
        body: json({
          properties: { roleDefinitionId: READER_ROLE, principalId: randomUUID(), secret: stray[0] },
          value: stray[1],
        }),
      }),
      201,
      'assign',
    );
    expectStatus(
      await call('RoleAssignments_Delete', 'unassign', 'DELETE', `${AUTHZ}/roleAssignments/${assignment}`),
      200,
      'unassign',
    );
    const vault = `canary-${randomBytes(3).toString('hex')}`;
    expectStatus(
      await call('Vaults_CreateOrUpdate', 'create vault', 'PUT', `/vaults/${vault}`, {
        body: json({ properties: { sku: { name: 'standard' }, secret: stray[2] }, value: stray[3] }),
      }),
      201,
      'create vault',
    );
    expectStatus(
      await call('Vaults_Update', 'patch vault', 'PATCH', `/vaults/${vault}`, {
        body: json({ tags: { team: 'tests' }, properties: { password: stray[4] } }),
      }),
      200,
      'patch vault',
    );
    const policyStray = canary('stray');
    never.push(policyStray);
    expectStatus(
      await call('Vaults_UpdateAccessPolicy', 'add policy', 'PUT', `/vaults/${vault}/accessPolicies/add`, {
        body: json({
          properties: {
            accessPolicies: [
              {
                tenantId: fixture.info.tenantId,
                objectId: randomUUID(),
                permissions: { secrets: ['get'] },
                secret: policyStray,
              },
            ],
          },
        }),
      }),
      200,
      'add policy',
    );
    expectStatus(
      await call('Vaults_Delete', 'delete vault', 'DELETE', `/vaults/${vault}`),
      200,
      'delete vault',
    );
    expectStatus(
      await call('Vaults_Recover', 'recover vault', 'POST', `/deletedVaults/${vault}/recover`),
      200,
      'recover vault',
    );

    // --- Tokens that are not tokens, carrying canaries.
    const garbageToken = canary('token');
    const header = Buffer.from(json({ alg: 'RS256', kid: 'x' })).toString('base64url');
    const fakeClaims = canary('claims');
    const fakeJwt = `${header}.${Buffer.from(json({ oid: fakeClaims, tid: fixture.info.tenantId })).toString('base64url')}.${Buffer.from(canary('sig')).toString('base64url')}`;
    never.push(garbageToken, fakeClaims);
    credentials.push(garbageToken, fakeJwt);
    expectStatus(
      await call('GetSecret', 'garbage token', 'GET', '/secrets/canary-a', { token: garbageToken }),
      401,
      'garbage',
    );
    expectStatus(
      await call('GetSecret', 'forged token', 'GET', '/secrets/canary-a', { token: fakeJwt }),
      401,
      'forged',
    );
    const denied = canary('denied');
    never.push(denied);
    expectStatus(
      await call('SetSecret', 'no rights', 'PUT', '/secrets/canary-d', {
        token: otherToken,
        body: json({ value: denied }),
      }),
      403,
      'no rights',
    );

    // --- Every read, after the writes.
    const get = await call('GetSecret', 'get a', 'GET', '/secrets/canary-a');
    expectStatus(get, 200, 'get a');
    assert.equal(get.json().value, a2, 'get discloses the latest value');
    expectStatus(
      await call('GetSecret', 'get a (version)', 'GET', `/secrets/canary-a/${versionA2}`),
      200,
      'get v',
    );
    expectStatus(await call('GetSecret', 'get b (restored)', 'GET', '/secrets/canary-b'), 200, 'get b');
    expectStatus(await call('GetSecrets', 'list', 'GET', '/secrets'), 200, 'list');
    expectStatus(
      await call('GetSecretVersions', 'versions', 'GET', '/secrets/canary-a/versions'),
      200,
      'versions',
    );
    expectStatus(
      await call('DeleteSecret', 'delete b again', 'DELETE', '/secrets/canary-b'),
      200,
      'delete b2',
    );
    expectStatus(await call('GetDeletedSecrets', 'list deleted', 'GET', '/deletedsecrets'), 200, 'deleted');
    expectStatus(
      await call('GetDeletedSecret', 'get deleted', 'GET', '/deletedsecrets/canary-b'),
      200,
      'get deleted',
    );
    expectStatus(
      await call('RoleAssignments_ListForScope', 'assignments', 'GET', `${AUTHZ}/roleAssignments`),
      200,
      'assignments',
    );
    const filtered = canary('filter');
    queries.push(filtered);
    await call('RoleAssignments_ListForScope', 'assignments filtered', 'GET', `${AUTHZ}/roleAssignments`, {
      query: `$filter=${encodeURIComponent(`principalId eq '${filtered}'`)}`,
    });
    expectStatus(await call('Vaults_Get', 'vault', 'GET', `/vaults/${vault}`), 200, 'vault');
    expectStatus(await call('Vaults_List', 'vaults', 'GET', '/vaults'), 200, 'vaults');
    const audit = await call('AuditEvents_List', 'audit events', 'GET', '/vaults/dev/auditEvents');
    assert.ok([200, 404].includes(audit.status), `audit events: ${audit.status}`);
  });
  after(async () => {
    capture.stop();
    await fixture?.close();
  });

  /** Which planted strings a text holds, named by kind. */
  const found = (text: string, kinds: Record<string, readonly string[]>): string[] => {
    const hits: string[] = [];
    for (const [kind, list] of Object.entries(kinds)) {
      for (const value of list) {
        const form = forms(value).find((f) => text.includes(f));
        if (form)
          hits.push(`${kind} ${value.slice(0, 24)}… (as ${form === value ? 'itself' : form.slice(0, 16)})`);
      }
    }
    return hits;
  };

  it('captures what the process writes (the capture works)', () => {
    const text = capture.text();
    assert.ok(text.includes('canary-capture-self-test-stdout'));
    assert.ok(text.includes('canary-capture-self-test-stderr'));
  });

  it('no audit record holds a canary, a token or the client secret', async () => {
    const items = await scan(fixture.auditTableName);
    assert.ok(items.length >= exchanges.length, `${items.length} records for ${exchanges.length} requests`);
    const problems: string[] = [];
    for (const item of items) {
      const hits = found(JSON.stringify(item), {
        value: values,
        blob: blobs,
        never,
        query: queries,
        credential: credentials,
      });
      if (hits.length > 0) {
        const record = JSON.parse((item.record as { S?: string })?.S ?? '{}');
        problems.push(`${record.operationName} ${record.properties?.httpStatusCode}: ${hits.join('; ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('no line the process wrote holds a canary, a token or the client secret', () => {
    const hits = found(capture.text(), {
      value: values,
      blob: blobs,
      never,
      query: queries,
      credential: credentials,
    });
    assert.deepEqual(hits, []);
  });

  it('responses carry a secret value only from set and get, a blob only from backup, and nothing planted else', () => {
    const problems: string[] = [];
    for (const { label, operation, res } of exchanges) {
      const headers = JSON.stringify(res.headers);
      const inHeaders = found(headers, { value: values, blob: blobs, never, credential: credentials });
      if (inHeaders.length > 0) problems.push(`${label}: headers carry ${inHeaders.join('; ')}`);
      const allowed = {
        value: ['SetSecret', 'GetSecret'].includes(operation) && res.status === 200 ? [] : values,
        blob: operation === 'BackupSecret' && res.status === 200 ? [] : blobs,
        never,
        credential: credentials,
      };
      const inBody = found(res.text, allowed);
      if (inBody.length > 0) problems.push(`${label} (${res.status}): body carries ${inBody.join('; ')}`);
    }
    assert.deepEqual(problems, []);
  });

  it('the main table holds no secret value in the clear', async () => {
    const hits = found(JSON.stringify(await scan(fixture.tableName)), { value: values, never });
    assert.deepEqual(hits, []);
  });
});

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const client = dynamoClient();
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, never> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({ TableName: table, ...(start && { ExclusiveStartKey: start }) }),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    return items;
  } finally {
    client.destroy();
  }
}
