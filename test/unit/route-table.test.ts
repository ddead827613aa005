import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderRouteTable } from '#lib/http/route-docs.ts';
import { routes } from '#lib/http/routes.ts';
import { matchRoute } from '#lib/local/route-matcher.ts';

const root = join(import.meta.dirname, '..', '..');
const spec = JSON.parse(
  readFileSync(join(root, '..', 'shared', 'specs', 'azure-keyvault', '2026-04-01', 'secrets.json'), 'utf8'),
) as { paths: Record<string, Record<string, { operationId: string }>> };

describe('the route table', () => {
  it('covers every secrets operation of the specification, with the same method', () => {
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (method === 'parameters') continue;
        const served = routes.filter((r) => r.operationId === operation.operationId);
        assert.ok(
          served.length > 0,
          `${operation.operationId} (${method.toUpperCase()} ${path}) has no route`,
        );
        assert.ok(
          served.every((r) => r.method === method.toUpperCase()),
          operation.operationId,
        );
      }
    }
  });

  it('names an existing handler file, a permission and an audit name for every route', () => {
    for (const route of routes) {
      assert.ok(existsSync(join(root, route.handler)), route.handler);
      assert.match(
        route.permission,
        /^(secrets\/(get|list|set|delete|recover|backup|restore|purge)|rbac\/(read|write|delete)|vaults\/(read|write|delete|purge)|audit\/read)$/,
        route.operationId,
      );
      assert.match(route.auditOperation, /^(Secret|RoleAssignment|RoleDefinition|Vault|AuditEvent)[A-Z]\w+$/);
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

  it('tells an unknown path from a known path with the wrong method', () => {
    assert.equal(match('GET', '/nothing'), undefined);
    assert.equal(match('DELETE', '/secrets'), 'method-not-allowed');
  });
});
