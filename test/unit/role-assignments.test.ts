import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadParameterError, ConflictError, NotFoundError } from '#lib/errors.ts';
import type { Vault } from '#lib/vaults/model.ts';
import {
  makeCreateRoleAssignment,
  makeDeleteRoleAssignment,
  makeGetRoleAssignment,
  makeListRoleAssignments,
  parseRoleAssignmentFilter,
} from '#lib/vaults/role-assignments.ts';
import { roleAssignmentResource, roleDefinitionList } from '#lib/vaults/role-resources.ts';

const ADMIN = '00482a5a-887f-4fb3-b363-3b7fe8e74483';
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const A1 = '11111111-1111-4111-8111-111111111111';
const A2 = '22222222-2222-4222-8222-222222222222';
const A3 = '33333333-3333-4333-8333-333333333333';
const A4 = '44444444-4444-4444-8444-444444444444';

const vault = (): Vault => ({
  name: 'dev',
  tenantId: 't',
  sku: 'standard',
  enableRbacAuthorization: true,
  accessPolicies: [],
  softDeleteRetentionInDays: 90,
  enablePurgeProtection: false,
  roleAssignments: [{ name: A1, scope: '/', roleDefinitionId: ADMIN, principalId: 'creator' }],
  createdAt: 1,
  createdBy: 'creator',
  updatedAt: 1,
  revision: 0,
});

/** A vault store in a Map whose replace checks the revision, as the DynamoDB one does. */
function memoryStore(options: { concurrentWrites?: number } = {}) {
  const vaults = new Map<string, Vault>([['dev', vault()]]);
  let interferences = options.concurrentWrites ?? 0;
  let replaces = 0;
  const store = {
    get: async (name: string) => vaults.get(name),
    replace: async (next: Vault) => {
      replaces++;
      const stored = vaults.get(next.name) as Vault;
      if (interferences > 0) {
        // Someone else writes between our get and our replace.
        interferences--;
        vaults.set(next.name, { ...stored, revision: stored.revision + 1 });
      }
      if (vaults.get(next.name)?.revision !== next.revision) throw new ConflictError('changed concurrently');
      const written = { ...next, revision: next.revision + 1 };
      vaults.set(next.name, written);
      return written;
    },
  };
  return { store, vaults, replaces: () => replaces };
}

function useCases(options?: { concurrentWrites?: number }) {
  const memory = memoryStore(options);
  const forgotten: string[] = [];
  const deps = { store: memory.store, forget: (name: string) => forgotten.push(name) };
  return {
    ...memory,
    forgotten,
    create: makeCreateRoleAssignment(deps),
    get: makeGetRoleAssignment(deps),
    remove: makeDeleteRoleAssignment(deps),
    list: makeListRoleAssignments(deps),
  };
}

const grant = (principalId: string, roleDefinitionId = SECRETS_USER) => ({ principalId, roleDefinitionId });
const stored = (uc: ReturnType<typeof useCases>) => uc.vaults.get('dev')?.roleAssignments ?? [];

describe('role assignment use cases', () => {
  it('creates an assignment (201), stores it, and answers a repeat of the same PUT with 200', async () => {
    const uc = useCases();
    const first = await uc.create(
      'dev',
      '/',
      A2,
      grant('app-1', `/providers/x/roleDefinitions/${SECRETS_USER}`),
    );
    assert.equal(first.created, true);
    assert.deepEqual(first.assignment, {
      name: A2,
      scope: '/',
      roleDefinitionId: SECRETS_USER,
      principalId: 'app-1',
    });
    assert.deepEqual(uc.forgotten, ['dev']);
    const again = await uc.create('dev', '/', A2.toUpperCase(), grant('app-1', 'Key Vault Secrets User'));
    assert.equal(again.created, false);
    assert.equal(stored(uc).length, 2);
    assert.equal(uc.vaults.get('dev')?.revision, 1);
  });

  it('refuses to change an assignment through its name (409)', async () => {
    const uc = useCases();
    await assert.rejects(uc.create('dev', '/', A1, grant('someone-else', ADMIN)), ConflictError);
    await assert.rejects(uc.create('dev', '/secrets/a', A1, grant('creator', ADMIN)), ConflictError);
    assert.deepEqual(stored(uc), vault().roleAssignments);
  });

  it('refuses a second assignment of the same role to the same principal at the same scope (409)', async () => {
    const uc = useCases();
    await assert.rejects(
      uc.create('dev', '/', A2, grant('CREATOR', 'Key Vault Administrator')),
      ConflictError,
    );
    const elsewhere = await uc.create('dev', '/secrets/a', A3, grant('creator', ADMIN));
    assert.equal(elsewhere.created, true);
  });

  it('refuses an unknown role and a name that is not a GUID (400), storing nothing', async () => {
    const uc = useCases();
    await assert.rejects(
      uc.create('dev', '/', A2, grant('app-1', 'Key Vault Janitor')),
      (e: Error) => e instanceof BadParameterError && e.message.startsWith('Unknown role definition'),
    );
    await assert.rejects(uc.create('dev', '/', 'not-a-guid', grant('app-1')), BadParameterError);
    await assert.rejects(uc.create('dev', '/', undefined, grant('app-1')), BadParameterError);
    assert.equal(uc.replaces(), 0);
  });

  it('scopes an assignment to one object: found there, not through another object or the vault', async () => {
    const uc = useCases();
    const { assignment } = await uc.create('dev', '/secrets/a', A2, grant('app-1'));
    assert.equal(assignment.scope, '/secrets/a');
    assert.deepEqual(await uc.get('dev', '/secrets/a', A2), assignment);
    await assert.rejects(
      uc.get('dev', '/secrets/b', A2),
      (e: Error) => e instanceof NotFoundError && e.code === 'RoleAssignmentNotFound',
    );
    await assert.rejects(uc.get('dev', '/', A2), NotFoundError);
    await assert.rejects(uc.remove('dev', '/secrets/b', A2), NotFoundError);
    assert.equal(stored(uc).length, 2);
  });

  it('lists what applies at a scope, or with atScope() only what is assigned there', async () => {
    const uc = useCases();
    await uc.create('dev', '/secrets/a', A2, grant('app-1'));
    await uc.create('dev', '/secrets/b', A3, grant('app-2'));
    const names = async (scope: string, filter?: string) =>
      (await uc.list('dev', scope, filter)).map((a) => a.name).sort();
    assert.deepEqual(await names('/'), [A1, A2, A3]);
    assert.deepEqual(await names('/', 'atScope()'), [A1]);
    assert.deepEqual(await names('/secrets/a'), [A1, A2]);
    assert.deepEqual(await names('/secrets/a', 'atScope()'), [A2]);
    assert.deepEqual(await names('/secrets/c'), [A1]);
  });

  it("lists one principal's assignments with principalId eq, and refuses other filters (400)", async () => {
    const uc = useCases();
    await uc.create('dev', '/secrets/a', A2, grant('app-1'));
    await uc.create('dev', '/', A3, grant('App-1', ADMIN));
    await uc.create('dev', '/', A4, grant('app-2', ADMIN));
    const names = async (scope: string, filter: string) =>
      (await uc.list('dev', scope, filter)).map((a) => a.name).sort();
    assert.deepEqual(await names('/', "principalId eq 'app-1'"), [A2, A3]);
    assert.deepEqual(await names('/secrets/a', "atScope() and principalId eq 'APP-1'"), [A2]);
    for (const bad of ["roleName eq 'x'", 'atScope() or true', "principalId eq 'a' and principalId eq 'b'"]) {
      await assert.rejects(uc.list('dev', '/', bad), BadParameterError);
    }
    assert.deepEqual(parseRoleAssignmentFilter(undefined), { atScope: false });
  });

  it('deletes an assignment, returning it; then it is not found, and a second delete is 404', async () => {
    const uc = useCases();
    await uc.create('dev', '/keys/k', A2, grant('app-1'));
    const removed = await uc.remove('dev', '/keys/k', A2);
    assert.equal(removed.name, A2);
    assert.deepEqual(stored(uc), vault().roleAssignments);
    await assert.rejects(uc.get('dev', '/keys/k', A2), NotFoundError);
    await assert.rejects(uc.remove('dev', '/keys/k', A2), NotFoundError);
    assert.deepEqual(uc.forgotten, ['dev', 'dev']);
  });

  it('retries a write that lost to a concurrent one, keeping that one', async () => {
    const uc = useCases({ concurrentWrites: 1 });
    const { created } = await uc.create('dev', '/', A2, grant('app-1'));
    assert.equal(created, true);
    assert.equal(uc.replaces(), 2);
    assert.equal(uc.vaults.get('dev')?.revision, 2);
    assert.ok(stored(uc).some((a) => a.name === A2));
  });

  it('gives up with 409 after three retries, storing nothing', async () => {
    const uc = useCases({ concurrentWrites: 10 });
    await assert.rejects(uc.create('dev', '/', A2, grant('app-1')), ConflictError);
    assert.equal(uc.replaces(), 4);
    assert.ok(!stored(uc).some((a) => a.name === A2));
    assert.deepEqual(uc.forgotten, []);
  });

  it('refuses more than the vault limit of assignments (400)', async () => {
    const uc = useCases();
    const full = vault();
    uc.vaults.set('dev', {
      ...full,
      roleAssignments: Array.from({ length: 2000 }, (_, i) => ({
        name: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
        scope: '/',
        roleDefinitionId: SECRETS_USER,
        principalId: `p${i}`,
      })),
    });
    await assert.rejects(uc.create('dev', '/', A2, grant('app-1')), BadParameterError);
  });
});

describe('role resources', () => {
  it('shapes an assignment as Managed HSM does, with ids at vault and object scope', () => {
    const at = (scope: string) =>
      roleAssignmentResource({ name: A2, scope, roleDefinitionId: ADMIN, principalId: 'p' });
    assert.deepEqual(at('/'), {
      id: `/providers/Microsoft.Authorization/roleAssignments/${A2}`,
      name: A2,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        scope: '/',
        roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${ADMIN}`,
        principalId: 'p',
      },
    });
    assert.equal(at('/secrets/a').id, `/secrets/a/providers/Microsoft.Authorization/roleAssignments/${A2}`);
  });

  it('lists every built-in role definition', () => {
    const { value } = roleDefinitionList();
    const admin = value.find((d) => d.name === ADMIN);
    assert.equal(admin?.id, `/providers/Microsoft.Authorization/roleDefinitions/${ADMIN}`);
    assert.equal(admin?.properties.roleName, 'Key Vault Administrator');
    assert.equal(admin?.properties.type, 'AKVBuiltInRole');
    assert.deepEqual(admin?.properties.assignableScopes, ['/']);
    assert.ok(value.length >= 10);
  });
});
