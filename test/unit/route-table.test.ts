import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderRouteTable } from '#lib/http/route-docs.ts';
import { routes } from '#lib/http/routes.ts';
import { matchRoute } from '#lib/local/route-matcher.ts';

const root = join(import.meta.dirname, '..', '..');
type Spec = { paths: Record<string, Record<string, { operationId: string }>> };
const specOf = (file: string) =>
  JSON.parse(
    readFileSync(join(root, '..', 'shared', 'specs', 'azure-keyvault', '2026-04-01', file), 'utf8'),
  ) as Spec;

/** Every operation of a specification file not excepted is served, with the specification's method. */
function uncovered(spec: Spec, exceptions: Readonly<Record<string, string>> = {}): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (method === 'parameters') continue;
      seen.add(operation.operationId);
      const served = routes.filter((r) => r.operationId === operation.operationId);
      if (operation.operationId in exceptions) {
        if (served.length > 0)
          problems.push(`${operation.operationId} is served: it is no longer an exception`);
        continue;
      }
      if (served.length === 0)
        problems.push(`${operation.operationId} (${method.toUpperCase()} ${path}) has no route`);
      else if (!served.every((r) => r.method === method.toUpperCase()))
        problems.push(`${operation.operationId}: not served with ${method.toUpperCase()}`);
    }
  }
  for (const id of Object.keys(exceptions))
    if (!seen.has(id)) problems.push(`${id} is an exception the specification does not have`);
  return problems;
}

/** Keys operations of the specification that Arca deliberately does not serve. */
const KEYS_NOT_SERVED: Record<string, string> = {
  GetKeyAttestation:
    "no per-key attestation to return: KMS, CloudHSM and SoftHSM2 give none in Azure's format",
  release:
    'secure key release needs exportable keys and an attestation service; Arca refuses exportable keys',
  securewrapkey: 'needs a trusted execution environment and MAA attestation; the current SDKs do not call it',
  secureunwrapkey: 'the reverse of securewrapkey, with the same TEE and MAA attestation requirement',
};

describe('the route table', () => {
  it('covers every secrets operation of the specification, with the same method', () => {
    assert.deepEqual(uncovered(specOf('secrets.json')), []);
  });

  it('covers every keys operation of the specification but the deliberate exceptions, with the same method', () => {
    assert.deepEqual(uncovered(specOf('keys.json'), KEYS_NOT_SERVED), []);
  });

  it('names an existing handler file, a permission and an audit name for every route', () => {
    for (const route of routes) {
      assert.ok(existsSync(join(root, route.handler)), route.handler);
      assert.match(
        route.permission,
        /^(secrets\/(get|list|set|delete|recover|backup|restore|purge)|keys\/(get|list|create|import|update|delete|recover|backup|restore|purge|rotate|encrypt|decrypt|wrapKey|unwrapKey|sign|verify|getrotationpolicy|setrotationpolicy)|rbac\/(read|write|delete)|vaults\/(read|write|delete|purge)|audit\/read)$/,
        route.operationId,
      );
      assert.match(
        route.auditOperation,
        /^(Secret|Key|RoleAssignment|RoleDefinition|Vault|AuditEvent|HsmHealth)[A-Z]\w+$/,
        route.operationId,
      );
    }
  });

  it('gives every data-plane route the RBAC action a role must grant', () => {
    for (const route of routes.filter((r) => r.plane === 'data')) {
      assert.match(
        route.dataAction ?? '',
        /^Microsoft\.(KeyVault\/vaults|Authorization)\//,
        route.operationId,
      );
    }
  });

  it('gives each method and path one route', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('is what the README documents', () => {
    assert.ok(
      readFileSync(join(root, 'README.md'), 'utf8').includes(renderRouteTable()),
      'run `npm run docs`',
    );
  });
});

describe('the local gateway route matcher', () => {
  const match = (method: string, path: string) => {
    const m = matchRoute(routes, method, path);
    return typeof m === 'object' ? `${m.route.operationId} ${JSON.stringify(m.params)}` : m;
  };

  it('prefers a literal segment to a parameter, as API Gateway does', () => {
    assert.equal(match('GET', '/secrets/db/versions'), 'GetSecretVersions {"name":"db"}');
    assert.equal(match('POST', '/secrets/restore'), 'RestoreSecret {}');
    assert.equal(match('GET', '/secrets/db/abc'), 'GetSecret {"name":"db","version":"abc"}');
  });

  it("reads the SDKs' trailing slash as an empty version", () => {
    assert.equal(match('GET', '/secrets/db/'), 'GetSecret {"name":"db","version":""}');
  });

  it('reads an empty version inside a key operation path as the latest, never an empty name', () => {
    assert.equal(match('POST', '/keys/k1//sign'), 'sign {"name":"k1","version":""}');
    assert.equal(match('POST', '/keys//v1/sign'), undefined);
  });

  it('tells an unknown path from a known path with the wrong method', () => {
    assert.equal(match('GET', '/nothing'), undefined);
    assert.equal(match('DELETE', '/secrets'), 'method-not-allowed');
  });
});
