import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { type Route, routes } from '#lib/http/routes.ts';
import { dynamoClient } from '../support/environment.ts';
import { type RawResponse, rawRequest } from '../support/https.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

/**
 * DESIGN.md #8: every request that reaches a handler leaves exactly one audit
 * record. For every route of the route table: one request that succeeds, and
 * the failures every route can meet (400 missing api-version, 401 without a
 * token and with a garbage one, 403 for a principal holding nothing, 404 on a
 * vault that does not exist), plus a malformed body where the route takes one
 * and an unknown object where the route names one. Each request carries a
 * unique x-ms-client-request-id, which is the record's correlationId.
 *
 * Expectations are written from the documented contract (the route table's
 * auditOperation, Key Vault's statuses), not derived from lib/audit.
 */

const DATA = '7.6';
const MGMT = '2024-11-01';
const AUTHZ = '/providers/Microsoft.Authorization';
const READER_ROLE = '21090545-7ca7-4776-b22c-e363652d74d2';
/** A query parameter no route reads: its value must never reach a record. */
const PROBE = 'probe';
/** One RSA private key as a JWK, made at test time, for ImportKey. */
const IMPORTED_JWK = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const DIGEST = createHash('sha256').update('audited').digest().toString('base64url');
const b64u = (text: string) => Buffer.from(text).toString('base64url');
/** Valid bodies of the keys routes that take one. */
const KEY_BODIES = {
  create: JSON.stringify({ kty: 'RSA', key_size: 2048 }),
  import: JSON.stringify({ key: IMPORTED_JWK }),
  update: JSON.stringify({ tags: { audited: 'yes' } }),
  encrypt: JSON.stringify({ alg: 'RSA-OAEP-256', value: b64u('audited') }),
  sign: JSON.stringify({ alg: 'RS256', value: DIGEST }),
  wrap: JSON.stringify({ alg: 'RSA-OAEP-256', value: randomBytes(32).toString('base64url') }),
  /** decrypt and unwrapKey of a block no key made: still a well-formed request. */
  opaque: JSON.stringify({ alg: 'RSA-OAEP-256', value: randomBytes(256).toString('base64url') }),
  verify: JSON.stringify({ alg: 'RS256', digest: DIGEST, value: randomBytes(256).toString('base64url') }),
  rotationPolicy: JSON.stringify({
    lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }],
    attributes: { expiryTime: 'P1Y' },
  }),
  random: JSON.stringify({ count: 16 }),
};

type Fixture = Awaited<ReturnType<typeof localVaultFixture>>;

interface Call {
  readonly method: string;
  /** The path without query. */
  readonly path: string;
  /** Omitted: the plane's api-version. null: no api-version at all. */
  readonly apiVersion?: string | null;
  readonly body?: string;
  /** Omitted: the fixture's bare host. */
  readonly host?: string;
  /** Omitted: the dev client. null: no Authorization header. */
  readonly token?: string | null;
}

interface Expectation {
  readonly what: string;
  readonly status: number;
  readonly operationName: string;
  /** undefined: no oid in the record (unauthenticated). */
  readonly oid: string | undefined;
  readonly vault: string;
  /** The error code the body and the record's resultDescription carry (failures only). */
  readonly code?: string;
  readonly operationVersion?: string;
  /** properties.id must end with this. */
  readonly idEndsWith?: string;
}

interface Sent {
  readonly correlationId: string;
  readonly call: Call;
  readonly probe: string;
  readonly res: RawResponse;
  readonly expect?: Expectation;
}

const routeKey = (route: Route) => `${route.method} ${route.path}`;
const run = randomBytes(3).toString('hex');
let counter = 0;
const fresh = (prefix: string) => `${prefix}${++counter}-${run}`;

describe('audit: every route leaves exactly one record per request', () => {
  let fixture: Fixture;
  let port: number;
  let devToken: string;
  let devOid: string;
  let nobodyToken: string;
  let nobodyOid: string;
  /** The client (appid) each object id signs in as. */
  const appIdOf = new Map<string, string>();
  const sent: Sent[] = [];

  /** Sends one request with a fresh correlation id and keeps it for the record check. */
  const send = async (call: Call, expect?: Expectation): Promise<Sent> => {
    const correlationId = randomUUID();
    const probe = `probe-value-${randomBytes(8).toString('hex')}`;
    const management = /^\/(vaults|deletedVaults|health)(\/|$)/.test(call.path);
    const apiVersion = call.apiVersion === undefined ? (management ? MGMT : DATA) : call.apiVersion;
    const query = [...(apiVersion === null ? [] : [`api-version=${apiVersion}`]), `${PROBE}=${probe}`].join(
      '&',
    );
    const token = call.token === undefined ? devToken : call.token;
    const res = await rawRequest(`https://localhost:${port}${call.path}?${query}`, {
      method: call.method,
      headers: {
        'x-ms-client-request-id': correlationId,
        'content-type': 'application/json',
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...(call.host && { host: call.host }),
      },
      ...(call.body !== undefined && { body: call.body }),
    });
    const entry: Sent = { correlationId, call, probe, res, ...(expect && { expect }) };
    sent.push(entry);
    return entry;
  };

  /** A prerequisite: must answer `status`; its record is checked at the end with every other request. */
  const must = async (call: Call, status: number) => {
    const s = await send(call);
    assert.equal(s.res.status, status, `${call.method} ${call.path}: ${s.res.text.slice(0, 300)}`);
    return s.res;
  };

  const setSecret = async (name: string) =>
    must({ method: 'PUT', path: `/secrets/${name}`, body: JSON.stringify({ value: `v-${name}` }) }, 200);
  const versionOf = (res: RawResponse): string => String(res.json().id).split('/').pop() as string;
  const createKey = async (name: string) =>
    must({ method: 'POST', path: `/keys/${name}/create`, body: KEY_BODIES.create }, 200);
  const keyVersionOf = (res: RawResponse): string => String(res.json().key?.kid).split('/').pop() as string;
  const deleteKey = (name: string) => must({ method: 'DELETE', path: `/keys/${name}` }, 200);
  /** A key's operation (encrypt …) on its latest version, with what it needs made first. */
  const keyOperation =
    (operation: string, body: (name: string, version: string) => Promise<string>) =>
    async (): Promise<SuccessCase> => {
      const name = fresh(`k${operation.slice(0, 4)}`);
      const version = keyVersionOf(await createKey(name));
      return {
        call: {
          method: 'POST',
          path: `/keys/${name}/${version}/${operation}`,
          body: await body(name, version),
        },
        status: 200,
        idEndsWith: `/keys/${name}/${version}`,
      };
    };
  const createVault = (name: string) =>
    must({ method: 'PUT', path: `/vaults/${name}`, body: JSON.stringify({}) }, 201);
  const deleteVault = (name: string) => must({ method: 'DELETE', path: `/vaults/${name}` }, 200);
  /** A fresh object made and soft-deleted: what the deleted-object routes act on. */
  const deletedSecret = async (prefix: string) => {
    const name = fresh(prefix);
    await setSecret(name);
    await must({ method: 'DELETE', path: `/secrets/${name}` }, 200);
    return name;
  };
  const deletedKey = async (prefix: string) => {
    const name = fresh(prefix);
    await createKey(name);
    await deleteKey(name);
    return name;
  };
  const deletedVault = async (prefix: string) => {
    const vault = fresh(prefix);
    await createVault(vault);
    await deleteVault(vault);
    return vault;
  };
  const assignmentBody = () =>
    JSON.stringify({ properties: { roleDefinitionId: READER_ROLE, principalId: randomUUID() } });

  /** Fills a route's path parameters. */
  const fill = (route: Route, values: Record<string, string>) =>
    route.path.replace(/\{([^}]+)\}/g, (_, p: string) => {
      const v = values[p];
      if (v === undefined) throw new Error(`${routeKey(route)}: no value for {${p}}`);
      return v;
    });
  const freshValues = () => ({
    name: fresh('s'),
    version: randomBytes(16).toString('hex'),
    assignment: randomUUID(),
    vault: fresh('v'),
    operationKind: 'add',
  });

  /** Where a request on this route is recorded: the host's vault, the path's vault, or '-'. */
  const vaultOf = (route: Route, path: string, host?: string): string => {
    if (route.plane === 'data') return host ? (host.split('.')[0] as string) : 'dev';
    const m = /^\/(?:vaults|deletedVaults)\/([^/]+)/.exec(path);
    return m ? (m[1] as string).toLowerCase() : '-';
  };

  interface SuccessCase {
    readonly call: Call;
    readonly status: number;
    /** properties.id ends with this (objects named by the path). */
    readonly idEndsWith?: string;
  }

  /**
   * One request per route that succeeds, with what it needs made first.
   * Keyed by `METHOD path`; a route without an entry fails the test naming it.
   */
  const SUCCESS: Record<string, (route: Route) => Promise<SuccessCase>> = {
    'GET /secrets': async () => ({ call: { method: 'GET', path: '/secrets' }, status: 200 }),
    'PUT /secrets/{name}': async () => {
      const name = fresh('set');
      return {
        call: { method: 'PUT', path: `/secrets/${name}`, body: JSON.stringify({ value: 'a value' }) },
        status: 200,
      };
    },
    'DELETE /secrets/{name}': async () => {
      const name = fresh('del');
      await setSecret(name);
      return { call: { method: 'DELETE', path: `/secrets/${name}` }, status: 200 };
    },
    'GET /secrets/{name}': async () => {
      const name = fresh('get');
      await setSecret(name);
      return {
        call: { method: 'GET', path: `/secrets/${name}` },
        status: 200,
        idEndsWith: `/secrets/${name}`,
      };
    },
    'GET /secrets/{name}/{version}': async () => {
      const name = fresh('getv');
      const version = versionOf(await setSecret(name));
      return {
        call: { method: 'GET', path: `/secrets/${name}/${version}` },
        status: 200,
        idEndsWith: `/secrets/${name}/${version}`,
      };
    },
    'PATCH /secrets/{name}/{version}': async () => {
      const name = fresh('upd');
      const version = versionOf(await setSecret(name));
      return {
        call: {
          method: 'PATCH',
          path: `/secrets/${name}/${version}`,
          body: JSON.stringify({ contentType: 'text/plain', tags: { audited: 'yes' } }),
        },
        status: 200,
        idEndsWith: `/secrets/${name}/${version}`,
      };
    },
    'GET /secrets/{name}/versions': async () => {
      const name = fresh('vers');
      await setSecret(name);
      return { call: { method: 'GET', path: `/secrets/${name}/versions` }, status: 200 };
    },
    'POST /secrets/{name}/backup': async () => {
      const name = fresh('bak');
      await setSecret(name);
      return { call: { method: 'POST', path: `/secrets/${name}/backup` }, status: 200 };
    },
    'POST /secrets/restore': async () => {
      const name = fresh('rst');
      await setSecret(name);
      const blob = (await must({ method: 'POST', path: `/secrets/${name}/backup` }, 200)).json().value;
      await must({ method: 'DELETE', path: `/secrets/${name}` }, 200);
      await must({ method: 'DELETE', path: `/deletedsecrets/${name}` }, 204);
      return {
        call: { method: 'POST', path: '/secrets/restore', body: JSON.stringify({ value: blob }) },
        status: 200,
      };
    },
    'GET /deletedsecrets': async () => ({ call: { method: 'GET', path: '/deletedsecrets' }, status: 200 }),
    'GET /deletedsecrets/{name}': async () => {
      const name = await deletedSecret('gdel');
      return { call: { method: 'GET', path: `/deletedsecrets/${name}` }, status: 200 };
    },
    'DELETE /deletedsecrets/{name}': async () => {
      const name = await deletedSecret('purge');
      return { call: { method: 'DELETE', path: `/deletedsecrets/${name}` }, status: 204 };
    },
    'POST /deletedsecrets/{name}/recover': async () => {
      const name = await deletedSecret('rec');
      return { call: { method: 'POST', path: `/deletedsecrets/${name}/recover` }, status: 200 };
    },
    'GET /keys': async () => ({ call: { method: 'GET', path: '/keys' }, status: 200 }),
    'POST /keys/{name}/create': async () => {
      const name = fresh('kcre');
      return {
        call: { method: 'POST', path: `/keys/${name}/create`, body: KEY_BODIES.create },
        status: 200,
      };
    },
    'PUT /keys/{name}': async () => {
      const name = fresh('kimp');
      return {
        call: { method: 'PUT', path: `/keys/${name}`, body: KEY_BODIES.import },
        status: 200,
      };
    },
    'GET /keys/{name}': async () => {
      const name = fresh('kget');
      await createKey(name);
      return { call: { method: 'GET', path: `/keys/${name}` }, status: 200, idEndsWith: `/keys/${name}` };
    },
    'GET /keys/{name}/{version}': async () => {
      const name = fresh('kgetv');
      const version = keyVersionOf(await createKey(name));
      return {
        call: { method: 'GET', path: `/keys/${name}/${version}` },
        status: 200,
        idEndsWith: `/keys/${name}/${version}`,
      };
    },
    'PATCH /keys/{name}/{version}': async () => {
      const name = fresh('kupd');
      const version = keyVersionOf(await createKey(name));
      return {
        call: { method: 'PATCH', path: `/keys/${name}/${version}`, body: KEY_BODIES.update },
        status: 200,
        idEndsWith: `/keys/${name}/${version}`,
      };
    },
    'GET /keys/{name}/versions': async () => {
      const name = fresh('kvers');
      await createKey(name);
      return { call: { method: 'GET', path: `/keys/${name}/versions` }, status: 200 };
    },
    'POST /keys/{name}/{version}/encrypt': keyOperation('encrypt', async () => KEY_BODIES.encrypt),
    'POST /keys/{name}/{version}/decrypt': keyOperation('decrypt', async (name, version) => {
      const path = `/keys/${name}/${version}/encrypt`;
      const { value } = (await must({ method: 'POST', path, body: KEY_BODIES.encrypt }, 200)).json();
      return JSON.stringify({ alg: 'RSA-OAEP-256', value });
    }),
    'POST /keys/{name}/{version}/sign': keyOperation('sign', async () => KEY_BODIES.sign),
    'POST /keys/{name}/{version}/verify': keyOperation('verify', async (name, version) => {
      const path = `/keys/${name}/${version}/sign`;
      const { value } = (await must({ method: 'POST', path, body: KEY_BODIES.sign }, 200)).json();
      return JSON.stringify({ alg: 'RS256', digest: DIGEST, value });
    }),
    'POST /keys/{name}/{version}/wrapkey': keyOperation('wrapkey', async () => KEY_BODIES.wrap),
    'POST /keys/{name}/{version}/unwrapkey': keyOperation('unwrapkey', async (name, version) => {
      const path = `/keys/${name}/${version}/wrapkey`;
      const { value } = (await must({ method: 'POST', path, body: KEY_BODIES.wrap }, 200)).json();
      return JSON.stringify({ alg: 'RSA-OAEP-256', value });
    }),
    'GET /keys/{name}/rotationpolicy': async () => {
      const name = fresh('kgrp');
      await createKey(name);
      return { call: { method: 'GET', path: `/keys/${name}/rotationpolicy` }, status: 200 };
    },
    'PUT /keys/{name}/rotationpolicy': async () => {
      const name = fresh('kprp');
      await createKey(name);
      return {
        call: { method: 'PUT', path: `/keys/${name}/rotationpolicy`, body: KEY_BODIES.rotationPolicy },
        status: 200,
      };
    },
    'POST /keys/{name}/rotate': async () => {
      const name = fresh('krot');
      await createKey(name);
      return { call: { method: 'POST', path: `/keys/${name}/rotate` }, status: 200 };
    },
    'POST /keys/{name}/backup': async () => {
      const name = fresh('kbak');
      await createKey(name);
      return { call: { method: 'POST', path: `/keys/${name}/backup` }, status: 200 };
    },
    'DELETE /keys/{name}': async () => {
      const name = fresh('kdel');
      await createKey(name);
      return { call: { method: 'DELETE', path: `/keys/${name}` }, status: 200 };
    },
    'POST /keys/restore': async () => {
      const name = fresh('krst');
      await createKey(name);
      const blob = (await must({ method: 'POST', path: `/keys/${name}/backup` }, 200)).json().value;
      await deleteKey(name);
      await must({ method: 'DELETE', path: `/deletedkeys/${name}` }, 204);
      return {
        call: { method: 'POST', path: '/keys/restore', body: JSON.stringify({ value: blob }) },
        status: 200,
      };
    },
    'GET /deletedkeys': async () => ({ call: { method: 'GET', path: '/deletedkeys' }, status: 200 }),
    'GET /deletedkeys/{name}': async () => {
      const name = await deletedKey('kgdel');
      return { call: { method: 'GET', path: `/deletedkeys/${name}` }, status: 200 };
    },
    'DELETE /deletedkeys/{name}': async () => {
      const name = await deletedKey('kpurge');
      return { call: { method: 'DELETE', path: `/deletedkeys/${name}` }, status: 204 };
    },
    'POST /deletedkeys/{name}/recover': async () => {
      const name = await deletedKey('krec');
      return { call: { method: 'POST', path: `/deletedkeys/${name}/recover` }, status: 200 };
    },
    'POST /rng': async () => ({
      call: { method: 'POST', path: '/rng', body: KEY_BODIES.random },
      status: 200,
    }),
    'GET /health/hsm': async () => ({ call: { method: 'GET', path: '/health/hsm' }, status: 200 }),
    'PUT /vaults/{vault}': async () => {
      const vault = fresh('put');
      return { call: { method: 'PUT', path: `/vaults/${vault}`, body: JSON.stringify({}) }, status: 201 };
    },
    'PATCH /vaults/{vault}': async () => {
      const vault = fresh('patch');
      await createVault(vault);
      return {
        call: { method: 'PATCH', path: `/vaults/${vault}`, body: JSON.stringify({ tags: { a: 'b' } }) },
        status: 200,
      };
    },
    'GET /vaults/{vault}': async () => {
      const vault = fresh('getv');
      await createVault(vault);
      return { call: { method: 'GET', path: `/vaults/${vault}` }, status: 200 };
    },
    'GET /vaults': async () => ({ call: { method: 'GET', path: '/vaults' }, status: 200 }),
    'DELETE /vaults/{vault}': async () => {
      const vault = fresh('delv');
      await createVault(vault);
      return { call: { method: 'DELETE', path: `/vaults/${vault}` }, status: 200 };
    },
    'PUT /vaults/{vault}/accessPolicies/{operationKind}': async () => {
      const vault = fresh('ap');
      await createVault(vault);
      const body = JSON.stringify({
        properties: {
          accessPolicies: [
            { tenantId: fixture.info.tenantId, objectId: nobodyOid, permissions: { secrets: ['list'] } },
          ],
        },
      });
      return { call: { method: 'PUT', path: `/vaults/${vault}/accessPolicies/add`, body }, status: 200 };
    },
    'GET /vaults/{vault}/auditEvents': async () => ({
      call: { method: 'GET', path: '/vaults/dev/auditEvents' },
      status: 200,
    }),
    'GET /deletedVaults': async () => ({ call: { method: 'GET', path: '/deletedVaults' }, status: 200 }),
    'GET /deletedVaults/{vault}': async () => {
      const vault = await deletedVault('gdv');
      return { call: { method: 'GET', path: `/deletedVaults/${vault}` }, status: 200 };
    },
    'POST /deletedVaults/{vault}/recover': async () => {
      const vault = await deletedVault('recv');
      return { call: { method: 'POST', path: `/deletedVaults/${vault}/recover` }, status: 200 };
    },
    'POST /deletedVaults/{vault}/purge': async () => {
      const vault = await deletedVault('prgv');
      return { call: { method: 'POST', path: `/deletedVaults/${vault}/purge` }, status: 200 };
    },
  };
  // Role assignments and definitions: the same recipe at every scope the table serves them on.
  for (const scope of ['', '/secrets/{name}', '/keys/{name}', '/certificates/{name}']) {
    const at = (route: Route) => fill({ ...route, path: scope }, { name: fresh('scope') });
    SUCCESS[`PUT ${scope}${AUTHZ}/roleAssignments/{assignment}`] = async (route) => ({
      call: {
        method: 'PUT',
        path: `${at(route)}${AUTHZ}/roleAssignments/${randomUUID()}`,
        body: assignmentBody(),
      },
      status: 201,
    });
    SUCCESS[`GET ${scope}${AUTHZ}/roleAssignments/{assignment}`] = async (route) => {
      const path = `${at(route)}${AUTHZ}/roleAssignments/${randomUUID()}`;
      await must({ method: 'PUT', path, body: assignmentBody() }, 201);
      return { call: { method: 'GET', path }, status: 200 };
    };
    SUCCESS[`DELETE ${scope}${AUTHZ}/roleAssignments/{assignment}`] = async (route) => {
      const path = `${at(route)}${AUTHZ}/roleAssignments/${randomUUID()}`;
      await must({ method: 'PUT', path, body: assignmentBody() }, 201);
      return { call: { method: 'DELETE', path }, status: 200 };
    };
    SUCCESS[`GET ${scope}${AUTHZ}/roleAssignments`] = async (route) => ({
      call: { method: 'GET', path: `${at(route)}${AUTHZ}/roleAssignments` },
      status: 200,
    });
  }
  SUCCESS[`GET ${AUTHZ}/roleDefinitions`] = async () => ({
    call: { method: 'GET', path: `${AUTHZ}/roleDefinitions` },
    status: 200,
  });

  /** A body that is not JSON, for every route that takes a body (parsed before anything is looked up). */
  const TAKES_BODY = new Set([
    'SetSecret',
    'UpdateSecret',
    'RestoreSecret',
    'RoleAssignments_Create',
    'Vaults_CreateOrUpdate',
    'Vaults_Update',
    'Vaults_UpdateAccessPolicy',
    'CreateKey',
    'ImportKey',
    'UpdateKey',
    'encrypt',
    'decrypt',
    'sign',
    'verify',
    'wrapKey',
    'unwrapKey',
    'UpdateKeyRotationPolicy',
    'RestoreKey',
    'GetRandomBytes',
  ]);

  /**
   * Routes naming one object: a request about one that does not exist answers 404.
   * The object is unknown; everything else (vault, body) is valid. Routes that make the
   * object they name (SetSecret, CreateKey, ImportKey) and routes naming none (lists,
   * restores, GetRandomBytes, the vault list, HsmHealth_Get) have no such request.
   */
  const NOT_FOUND: Record<string, (route: Route) => Call | undefined> = {
    'DELETE /secrets/{name}': (r) => ({ method: 'DELETE', path: fill(r, freshValues()) }),
    'GET /secrets/{name}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'GET /secrets/{name}/{version}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'PATCH /secrets/{name}/{version}': (r) => ({
      method: 'PATCH',
      path: fill(r, freshValues()),
      body: JSON.stringify({ contentType: 'text/plain' }),
    }),
    'GET /secrets/{name}/versions': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'POST /secrets/{name}/backup': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'GET /deletedsecrets/{name}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'DELETE /deletedsecrets/{name}': (r) => ({ method: 'DELETE', path: fill(r, freshValues()) }),
    'POST /deletedsecrets/{name}/recover': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'GET /keys/{name}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'GET /keys/{name}/{version}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'PATCH /keys/{name}/{version}': (r) => ({
      method: 'PATCH',
      path: fill(r, freshValues()),
      body: KEY_BODIES.update,
    }),
    'GET /keys/{name}/versions': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'POST /keys/{name}/{version}/encrypt': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.encrypt,
    }),
    'POST /keys/{name}/{version}/decrypt': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.opaque,
    }),
    'POST /keys/{name}/{version}/sign': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.sign,
    }),
    'POST /keys/{name}/{version}/verify': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.verify,
    }),
    'POST /keys/{name}/{version}/wrapkey': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.wrap,
    }),
    'POST /keys/{name}/{version}/unwrapkey': (r) => ({
      method: 'POST',
      path: fill(r, freshValues()),
      body: KEY_BODIES.opaque,
    }),
    'GET /keys/{name}/rotationpolicy': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'PUT /keys/{name}/rotationpolicy': (r) => ({
      method: 'PUT',
      path: fill(r, freshValues()),
      body: KEY_BODIES.rotationPolicy,
    }),
    'POST /keys/{name}/rotate': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'POST /keys/{name}/backup': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'DELETE /keys/{name}': (r) => ({ method: 'DELETE', path: fill(r, freshValues()) }),
    'GET /deletedkeys/{name}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'DELETE /deletedkeys/{name}': (r) => ({ method: 'DELETE', path: fill(r, freshValues()) }),
    'POST /deletedkeys/{name}/recover': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'PATCH /vaults/{vault}': (r) => ({
      method: 'PATCH',
      path: fill(r, freshValues()),
      body: JSON.stringify({ tags: { a: 'b' } }),
    }),
    'GET /vaults/{vault}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'DELETE /vaults/{vault}': (r) => ({ method: 'DELETE', path: fill(r, freshValues()) }),
    'PUT /vaults/{vault}/accessPolicies/{operationKind}': (r) => ({
      method: 'PUT',
      path: fill(r, freshValues()),
      body: JSON.stringify({
        properties: {
          accessPolicies: [
            { tenantId: fixture.info.tenantId, objectId: nobodyOid, permissions: { secrets: ['list'] } },
          ],
        },
      }),
    }),
    'GET /deletedVaults/{vault}': (r) => ({ method: 'GET', path: fill(r, freshValues()) }),
    'POST /deletedVaults/{vault}/recover': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
    'POST /deletedVaults/{vault}/purge': (r) => ({ method: 'POST', path: fill(r, freshValues()) }),
  };
  for (const scope of ['', '/secrets/{name}', '/keys/{name}', '/certificates/{name}']) {
    for (const method of ['GET', 'DELETE']) {
      NOT_FOUND[`${method} ${scope}${AUTHZ}/roleAssignments/{assignment}`] = (r) => ({
        method,
        path: fill(r, freshValues()),
      });
    }
  }

  /** A body a route with a body accepts (or at least parses) — for the 401/403/404 requests. */
  const validBody = (route: Route): string | undefined => {
    switch (route.operationId) {
      case 'SetSecret':
        return JSON.stringify({ value: 'a value' });
      case 'UpdateSecret':
        return JSON.stringify({ contentType: 'text/plain' });
      case 'RestoreSecret':
        return JSON.stringify({ value: Buffer.from('not a backup').toString('base64url') });
      case 'RoleAssignments_Create':
        return assignmentBody();
      case 'Vaults_CreateOrUpdate':
      case 'Vaults_Update':
        return JSON.stringify({});
      case 'Vaults_UpdateAccessPolicy':
        return JSON.stringify({ properties: { accessPolicies: [] } });
      case 'CreateKey':
        return KEY_BODIES.create;
      case 'ImportKey':
        return KEY_BODIES.import;
      case 'UpdateKey':
        return KEY_BODIES.update;
      case 'encrypt':
        return KEY_BODIES.encrypt;
      case 'decrypt':
      case 'unwrapKey':
        return KEY_BODIES.opaque;
      case 'sign':
        return KEY_BODIES.sign;
      case 'verify':
        return KEY_BODIES.verify;
      case 'wrapKey':
        return KEY_BODIES.wrap;
      case 'UpdateKeyRotationPolicy':
        return KEY_BODIES.rotationPolicy;
      case 'RestoreKey':
        return JSON.stringify({ value: b64u('not a backup') });
      case 'GetRandomBytes':
        return KEY_BODIES.random;
      default:
        return undefined;
    }
  };

  before(async () => {
    fixture = await localVaultFixture();
    port = fixture.vault.port;
    devToken = await fixture.token();
    const dev = (await fixture.vault.issuer.listClients()).find((c) => c.clientId === fixture.info.clientId);
    devOid = dev?.objectId ?? '';
    assert.ok(devOid, 'the dev client has an object id');
    const nobody = await fixture.vault.issuer.createClient('audit-nobody');
    nobodyOid = nobody.objectId;
    appIdOf.set(devOid, fixture.info.clientId);
    appIdOf.set(nobodyOid, nobody.clientId);
    nobodyToken = await fixture.vault.issuer.mintToken({ clientId: nobody.clientId });
  });
  after(() => fixture?.close());

  it('has a request recipe for every route of the route table', () => {
    const missing = routes.filter((r) => !SUCCESS[routeKey(r)]).map(routeKey);
    assert.deepEqual(missing, [], 'routes without a request recipe in this test');
    const served = new Set(routes.map(routeKey));
    const stale = [...Object.keys(SUCCESS), ...Object.keys(NOT_FOUND)].filter((k) => !served.has(k));
    assert.deepEqual(stale, [], 'recipes for routes the table no longer serves');
  });

  for (const route of routes) {
    it(`${routeKey(route)} (${route.auditOperation}): success, 400, 401, 403 and 404 each leave one record`, async () => {
      const recipe = SUCCESS[routeKey(route)];
      assert.ok(recipe, `no request recipe for ${routeKey(route)}`);
      const op = route.auditOperation;
      const apiVersion = route.plane === 'management' ? MGMT : DATA;
      const checks: Sent[] = [];
      const expectFor = async (call: Call, e: Omit<Expectation, 'vault'> & { vault?: string }) => {
        const vault = e.vault ?? vaultOf(route, call.path, call.host);
        checks.push(await send(call, { ...e, vault }));
      };

      // Success, as the dev client (vault administrator and deployment administrator).
      const ok = await recipe(route);
      await expectFor(ok.call, {
        what: 'success',
        status: ok.status,
        operationName: op,
        oid: devOid,
        operationVersion: apiVersion,
        ...(ok.idEndsWith && { idEndsWith: ok.idEndsWith }),
      });

      const generic = fill(route, freshValues());
      const body = validBody(route);
      const withBody = (c: Call): Call => (body !== undefined ? { ...c, body } : c);

      // 400: no api-version.
      await expectFor(withBody({ method: route.method, path: generic, apiVersion: null }), {
        what: '400 (no api-version)',
        status: 400,
        operationName: op,
        oid: devOid,
        code: 'BadParameter',
      });
      // 400: a body that is not JSON.
      if (TAKES_BODY.has(route.operationId)) {
        await expectFor(
          { method: route.method, path: fill(route, freshValues()), body: '{"not json' },
          { what: '400 (malformed body)', status: 400, operationName: op, oid: devOid, code: 'BadParameter' },
        );
      }
      // 401: no token, and a token that is not one.
      await expectFor(withBody({ method: route.method, path: generic, token: null }), {
        what: '401 (no token)',
        status: 401,
        operationName: 'Authentication',
        oid: undefined,
        code: 'Unauthorized',
      });
      await expectFor(withBody({ method: route.method, path: generic, token: 'garbage.not-a.token' }), {
        what: '401 (garbage token)',
        status: 401,
        operationName: 'Authentication',
        oid: undefined,
        code: 'Unauthorized',
      });
      // 403: a principal holding no role, policy or deployment role.
      await expectFor(withBody({ method: route.method, path: generic, token: nobodyToken }), {
        what: '403 (no rights)',
        status: 403,
        operationName: op,
        oid: nobodyOid,
        code: 'Forbidden',
        operationVersion: apiVersion,
      });
      // 404: a vault that does not exist (data plane), an object that does not exist.
      if (route.plane === 'data') {
        const ghost = `ghost${randomBytes(4).toString('hex')}`;
        await expectFor(
          withBody({ method: route.method, path: generic, host: `${ghost}.localhost:${port}` }),
          {
            what: '404 (unknown vault)',
            status: 404,
            operationName: op,
            oid: devOid,
            code: 'VaultNotFound',
          },
        );
      }
      const notFound = NOT_FOUND[routeKey(route)]?.(route);
      if (notFound) {
        await expectFor(notFound, {
          what: '404 (unknown object)',
          status: 404,
          operationName: op,
          oid: devOid,
        });
      }

      const problems: string[] = [];
      for (const s of checks) problems.push(...(await recordProblems(s)));
      assert.deepEqual(problems, []);
    });
  }

  it('every request this test sent, prerequisites included, left exactly one record of its outcome', async () => {
    const byCorrelation = new Map<string, AuditRecord[]>();
    for (const record of await allRecords(fixture.auditTableName)) {
      const list = byCorrelation.get(record.correlationId) ?? [];
      list.push(record);
      byCorrelation.set(record.correlationId, list);
    }
    const problems: string[] = [];
    for (const s of sent) {
      const where = `${s.call.method} ${s.call.path} → ${s.res.status}`;
      const records = byCorrelation.get(s.correlationId) ?? [];
      if (records.length !== 1) {
        problems.push(`${where}: ${records.length} records`);
        continue;
      }
      const r = records[0] as AuditRecord;
      if (r.properties.httpStatusCode !== s.res.status)
        problems.push(`${where}: record says ${r.properties.httpStatusCode}`);
      if (r.resultType !== (s.res.status < 400 ? 'Success' : 'Failure'))
        problems.push(`${where}: resultType ${r.resultType}`);
    }
    assert.ok(sent.length > 200, `only ${sent.length} requests were sent`);
    assert.deepEqual(problems, []);
  });

  /** What is wrong with the one record a request should have left, as readable lines. */
  async function recordProblems(s: Sent): Promise<string[]> {
    const e = s.expect as Expectation;
    const where = `${s.call.method} ${s.call.path} [${e.what}]`;
    const problems: string[] = [];
    const say = (p: string) => problems.push(`${where}: ${p}`);

    if (s.res.status !== e.status)
      say(`answered ${s.res.status}, expected ${e.status}: ${s.res.text.slice(0, 200)}`);
    if (s.res.headers['x-ms-correlation-request-id'] !== s.correlationId)
      say(`x-ms-correlation-request-id is ${s.res.headers['x-ms-correlation-request-id']}`);
    let bodyCode: string | undefined;
    if (s.res.status >= 400) {
      try {
        bodyCode = s.res.json().error?.code;
      } catch {
        say('error body is not JSON');
      }
      if (e.code && bodyCode !== e.code) say(`error code ${bodyCode}, expected ${e.code}`);
    }

    const records = await recordsWith(fixture.auditTableName, s.correlationId);
    if (records.length !== 1) {
      say(`${records.length} records with its correlationId`);
      return problems;
    }
    const r = records[0] as AuditRecord;
    if (r.operationName !== e.operationName)
      say(`operationName ${r.operationName}, expected ${e.operationName}`);
    const resultType = s.res.status < 400 ? 'Success' : 'Failure';
    if (r.resultType !== resultType) say(`resultType ${r.resultType}, expected ${resultType}`);
    if (r.properties?.httpStatusCode !== s.res.status)
      say(`httpStatusCode ${r.properties?.httpStatusCode}, response ${s.res.status}`);
    if (r.identity?.claim?.oid !== e.oid)
      say(`identity.claim.oid ${r.identity?.claim?.oid}, expected ${e.oid}`);
    const claim = r.identity?.claim ?? {};
    if (e.oid === undefined && Object.keys(claim).length > 0)
      say(`an unauthenticated caller has claims ${JSON.stringify(claim)}`);
    if (e.oid !== undefined && claim.appid !== appIdOf.get(e.oid)) say(`identity.claim.appid ${claim.appid}`);
    if (e.oid !== undefined && claim.tid !== fixture.info.tenantId) say(`identity.claim.tid ${claim.tid}`);
    if (!r.callerIpAddress) say('no callerIpAddress');
    const grant = r.properties?.accessGrant;
    if (s.res.status < 400 && !(grant?.via && grant.id))
      say(`success without an accessGrant: ${JSON.stringify(grant)}`);
    if ([401, 403].includes(s.res.status) && grant)
      say(`a refusal names an accessGrant: ${JSON.stringify(grant)}`);
    if (r.vault !== e.vault) say(`vault ${r.vault}, expected ${e.vault}`);
    if (r.category !== 'AuditEvent') say(`category ${r.category}`);
    if (s.res.status >= 400 && r.resultDescription !== bodyCode)
      say(`resultDescription '${r.resultDescription}', body code ${bodyCode}`);
    if (s.res.status < 400 && r.resultDescription !== '')
      say(`resultDescription '${r.resultDescription}' on success`);
    if (e.operationVersion !== undefined && r.operationVersion !== e.operationVersion)
      say(`operationVersion '${r.operationVersion}', expected ${e.operationVersion}`);
    if (e.idEndsWith && !r.properties?.id?.endsWith(e.idEndsWith))
      say(`properties.id ${r.properties?.id}, expected …${e.idEndsWith}`);
    if (typeof r.durationMs !== 'number' || r.durationMs < 0) say(`durationMs ${r.durationMs}`);
    if (Number.isNaN(Date.parse(r.time))) say(`time ${r.time}`);

    // requestUri: the path as sent, query names only.
    const uri = r.properties?.requestUri ?? '';
    const [uriPath, uriQuery = ''] = uri.split('?');
    if (!uriPath?.endsWith(s.call.path)) say(`requestUri ${uri} does not end in ${s.call.path}`);
    if (uriQuery.includes('=')) say(`requestUri ${uri} carries query values`);
    const names = uriQuery ? uriQuery.split('&').sort() : [];
    const sentNames = [...(s.call.apiVersion === null ? [] : ['api-version']), PROBE].sort();
    if (JSON.stringify(names) !== JSON.stringify(sentNames)) say(`requestUri query names ${names}`);
    const text = JSON.stringify(r);
    if (text.includes(s.probe)) say('the record quotes a query value');
    for (const token of [devToken, nobodyToken, 'garbage.not-a.token'])
      if (text.includes(token)) say('the record quotes a bearer token');
    return problems;
  }
});

/** Records whose correlationId is exactly `correlationId` (a scan: the test does not rely on the key layout). */
async function recordsWith(table: string, correlationId: string): Promise<AuditRecord[]> {
  const client = dynamoClient();
  try {
    const found: AuditRecord[] = [];
    let start: Record<string, never> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'contains(#r, :c)',
          ExpressionAttributeNames: { '#r': 'record' },
          ExpressionAttributeValues: { ':c': { S: correlationId } },
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      for (const item of out.Items ?? []) {
        const record = JSON.parse(item.record?.S ?? '{}') as AuditRecord;
        if (record.correlationId === correlationId) found.push(record);
      }
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    return found;
  } finally {
    client.destroy();
  }
}

async function allRecords(table: string): Promise<AuditRecord[]> {
  const client = dynamoClient();
  try {
    const found: AuditRecord[] = [];
    let start: Record<string, never> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({ TableName: table, ...(start && { ExclusiveStartKey: start }) }),
      );
      for (const item of out.Items ?? []) found.push(JSON.parse(item.record?.S ?? '{}') as AuditRecord);
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    return found;
  } finally {
    client.destroy();
  }
}
