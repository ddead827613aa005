import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { AuditRecord } from '#lib/audit/audit-record.ts';
import { vaultUrlFor } from '#lib/events/events-config.ts';
import { auditStreamEvents, tableStreamEvents } from '#lib/events/stream-events.ts';
import {
  eventsFromAuditRecord,
  eventsFromTableChange,
  type StreamImage,
  UnreadableImageError,
} from '#lib/events/vault-events.ts';
import { expiryKeys, secretPk, versionFields } from '#lib/store/secret-items.ts';

const vaultUrl = vaultUrlFor('vault.example.com');
const VERSION = '0123456789abcdef0123456789abcdef';
/** What must never show in an event: the sealed value's bytes and a tag's value. */
const CIPHERTEXT = Buffer.from('ciphertext-that-must-never-leak');
const TAG_VALUE = 'tag-value-that-must-never-leak';

function versionImage(name = 'Db-Password', version = VERSION): StreamImage {
  return {
    pk: { S: secretPk('payments', name) },
    sk: { S: `v#${version}` },
    version: { S: version },
    ...versionFields({
      name,
      version,
      attributes: {
        enabled: true,
        created: 1_700_000_000,
        updated: 1_700_000_000,
        nbf: 1_700_000_100,
        exp: 1_800_000_000,
      },
      tags: { owner: TAG_VALUE },
      contentType: 'text/plain',
      sealed: {
        keyring: 'kms',
        wrappedKey: Buffer.alloc(8, 1),
        iv: Buffer.alloc(12, 2),
        tag: Buffer.alloc(16, 3),
        ciphertext: CIPHERTEXT,
      },
    }),
  } as StreamImage;
}

/** A head holds its latest version's fields. */
function headImage(extra: StreamImage = {}): StreamImage {
  const { sk: _sk, version: _v, ...fields } = versionImage();
  return {
    ...fields,
    sk: { S: '#head' },
    latestVersion: { S: VERSION },
    gsi1pk: { S: 'payments/secrets' },
    gsi1sk: { S: 'db-password' },
    ...expiryKeys(secretPk('payments', 'Db-Password'), 1_800_000_000),
    ...extra,
  } as StreamImage;
}

function vaultImage(doc: Record<string, unknown>, revision: number): StreamImage {
  return {
    pk: { S: '#vault/payments' },
    sk: { S: '#vault' },
    gsi1pk: { S: '#vaults' },
    gsi1sk: { S: 'payments' },
    revision: { N: `${revision}` },
    vaultDoc: { B: gzipSync(JSON.stringify(doc)) },
  };
}

const vaultDoc = {
  tenantId: 't',
  sku: 'standard',
  enableRbacAuthorization: false,
  accessPolicies: [{ tenantId: 't', objectId: 'reader', permissions: { secrets: ['get'] } }],
  roleAssignments: [],
  softDeleteRetentionInDays: 90,
  enablePurgeProtection: false,
};

function auditRecord(status: number, extra: Partial<AuditRecord['properties']> = {}): AuditRecord {
  return {
    id: 'req-1',
    time: '2026-03-01T10:00:00.000Z',
    resourceId: '/providers/Microsoft.KeyVault/vaults/payments',
    vault: 'payments',
    operationName: 'SecretGet',
    operationVersion: '2026-04-01',
    category: 'AuditEvent',
    resultType: status < 400 ? 'Success' : 'Failure',
    resultSignature: 'Forbidden',
    resultDescription: 'Forbidden',
    durationMs: 3,
    callerIpAddress: '10.0.0.1',
    correlationId: 'corr-1',
    identity: { claim: { oid: 'caller-oid', appid: 'app-1' } },
    properties: {
      clientInfo: 'azsdk-js',
      requestUri: 'https://payments.vault.example.com/secrets/Db-Password?api-version',
      httpStatusCode: status,
      ...extra,
    },
  };
}

function assertNoValue(json: string) {
  assert.ok(!json.includes(TAG_VALUE), 'no tag value');
  assert.ok(!json.includes(CIPHERTEXT.toString('base64')), 'no ciphertext (base64)');
  assert.ok(!json.includes(CIPHERTEXT.toString('hex')), 'no ciphertext (hex)');
  assert.ok(!json.includes('ciphertext-that'), 'no ciphertext (text)');
  assert.ok(!/sealed|"tags"|policies|permissions/.test(json), 'no sealed value, tags or policies');
}

describe('eventsFromTableChange', () => {
  it("maps a new version item to SecretNewVersionCreated in Azure's data shape and envelope", () => {
    const events = eventsFromTableChange(
      { eventName: 'INSERT', newImage: versionImage(), sequenceNumber: '100', time: 1_750_000_000 },
      vaultUrl,
    );
    assert.equal(events.length, 1);
    const [event] = events;
    assert.deepEqual(
      { ...event, id: undefined },
      {
        id: undefined,
        topic: '/providers/Microsoft.KeyVault/vaults/payments',
        subject: 'Db-Password',
        eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
        eventTime: '2025-06-15T15:06:40.000Z',
        data: {
          Id: `https://payments.vault.example.com/secrets/Db-Password/${VERSION}`,
          VaultName: 'payments',
          ObjectType: 'Secret',
          ObjectName: 'Db-Password',
          Version: VERSION,
          NBF: 1_700_000_100,
          EXP: 1_800_000_000,
        },
        dataVersion: '1',
        metadataVersion: '1',
      },
    );
    assert.match(event?.id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assertNoValue(JSON.stringify(events));
  });

  it('gives a retried stream record the same event id, and another record another id', () => {
    const change = { eventName: 'INSERT' as const, newImage: versionImage(), sequenceNumber: '100', time: 1 };
    const first = eventsFromTableChange(change, vaultUrl)[0]?.id;
    assert.equal(eventsFromTableChange(change, vaultUrl)[0]?.id, first);
    assert.notEqual(eventsFromTableChange({ ...change, sequenceNumber: '101' }, vaultUrl)[0]?.id, first);
  });

  it('maps keys and certificates by their collection', () => {
    const keyVersion = { ...versionImage('signing'), pk: { S: 'payments/keys/signing' } };
    const [event] = eventsFromTableChange({ eventName: 'INSERT', newImage: keyVersion }, vaultUrl);
    assert.equal(event?.eventType, 'Microsoft.KeyVault.KeyNewVersionCreated');
    assert.equal(
      (event?.data as { Id: string } | undefined)?.Id,
      `https://payments.vault.example.com/keys/signing/${VERSION}`,
    );
    assert.equal((event?.data as { ObjectType: string } | undefined)?.ObjectType, 'Key');
    const cert = { ...headImage(), pk: { S: 'payments/certificates/web' } };
    const [deleted] = eventsFromTableChange(
      { eventName: 'MODIFY', oldImage: cert, newImage: { ...cert, deletedDate: { N: '1750000000' } } },
      vaultUrl,
    );
    assert.equal(deleted?.eventType, 'Arca.KeyVault.CertificateDeleted');
  });

  it('maps a soft delete, a recovery and a purge of a head to Deleted, Recovered and Purged', () => {
    const live = headImage();
    const deleted = headImage({ deletedDate: { N: '1750000000' }, scheduledPurgeDate: { N: '1757776000' } });
    const purging = { ...deleted, purging: { BOOL: true } };
    const types = (change: Parameters<typeof eventsFromTableChange>[0]) =>
      eventsFromTableChange(change, vaultUrl).map((e) => e.eventType);

    const [del] = eventsFromTableChange({ eventName: 'MODIFY', oldImage: live, newImage: deleted }, vaultUrl);
    assert.equal(del?.eventType, 'Arca.KeyVault.SecretDeleted');
    assert.equal(del?.eventTime, '2025-06-15T15:06:40.000Z', 'the deletion time when the stream gives none');
    assert.deepEqual(del?.data, {
      Id: `https://payments.vault.example.com/secrets/Db-Password/${VERSION}`,
      VaultName: 'payments',
      ObjectType: 'Secret',
      ObjectName: 'Db-Password',
      Version: VERSION,
      NBF: 1_700_000_100,
      EXP: 1_800_000_000,
    });
    assert.deepEqual(types({ eventName: 'MODIFY', oldImage: deleted, newImage: live }), [
      'Arca.KeyVault.SecretRecovered',
    ]);
    assert.deepEqual(
      types({ eventName: 'MODIFY', oldImage: deleted, newImage: purging }),
      [],
      'the purge mark',
    );
    assert.deepEqual(types({ eventName: 'REMOVE', oldImage: purging }), ['Arca.KeyVault.SecretPurged']);
    assertNoValue(
      JSON.stringify(eventsFromTableChange({ eventName: 'REMOVE', oldImage: purging }, vaultUrl)),
    );
  });

  it('means nothing for updates, removed versions, new heads and notification markers', () => {
    const head = headImage();
    const none = (change: Parameters<typeof eventsFromTableChange>[0]) =>
      assert.deepEqual(eventsFromTableChange(change, vaultUrl), []);
    none({
      eventName: 'MODIFY',
      oldImage: head,
      newImage: { ...head, attrs: { M: { enabled: { BOOL: false } } } },
    });
    none({ eventName: 'MODIFY', oldImage: versionImage(), newImage: versionImage() });
    none({ eventName: 'REMOVE', oldImage: versionImage() });
    none({ eventName: 'INSERT', newImage: head });
    none({
      eventName: 'INSERT',
      newImage: { pk: { S: `#notified/Microsoft.KeyVault.SecretExpired#payments/secrets/x/${VERSION}#0` } },
    });
  });

  it('maps a change of access policies or role assignments to VaultAccessPolicyChanged', () => {
    const before = vaultImage(vaultDoc, 3);
    const granted = vaultImage(
      {
        ...vaultDoc,
        accessPolicies: [
          ...vaultDoc.accessPolicies,
          { tenantId: 't', objectId: 'writer', permissions: { secrets: ['set'] } },
        ],
      },
      4,
    );
    const [event, ...rest] = eventsFromTableChange(
      { eventName: 'MODIFY', oldImage: before, newImage: granted, sequenceNumber: '7', time: 1_750_000_000 },
      vaultUrl,
    );
    assert.equal(rest.length, 0);
    assert.equal(event?.eventType, 'Microsoft.KeyVault.VaultAccessPolicyChanged');
    assert.equal(event?.subject, 'payments');
    assert.deepEqual(event?.data, {
      Id: 'https://payments.vault.example.com/',
      VaultName: 'payments',
      ObjectType: 'Vault',
      ObjectName: 'payments',
      Version: null,
      NBF: null,
      EXP: null,
    });
    assertNoValue(JSON.stringify(event));

    const assigned = vaultImage(
      { ...vaultDoc, roleAssignments: [{ name: 'a', scope: '/', roleDefinitionId: 'r', principalId: 'p' }] },
      4,
    );
    assert.equal(
      eventsFromTableChange({ eventName: 'MODIFY', oldImage: before, newImage: assigned }, vaultUrl).length,
      1,
    );
    const retagged = vaultImage({ ...vaultDoc, tags: { env: 'prod' } }, 4);
    assert.deepEqual(
      eventsFromTableChange({ eventName: 'MODIFY', oldImage: before, newImage: retagged }, vaultUrl),
      [],
      'other properties are not access',
    );
    assert.deepEqual(eventsFromTableChange({ eventName: 'INSERT', newImage: before }, vaultUrl), []);
  });

  it('reads a vault document given as base64, as Lambda delivers binary attributes', () => {
    const asLambda = (image: StreamImage): StreamImage => ({
      ...image,
      vaultDoc: { B: Buffer.from(image.vaultDoc?.B as Uint8Array).toString('base64') },
    });
    const before = asLambda(vaultImage(vaultDoc, 1));
    const after = asLambda(vaultImage({ ...vaultDoc, enableRbacAuthorization: true }, 2));
    const [event] = eventsFromTableChange(
      { eventName: 'MODIFY', oldImage: before, newImage: after },
      vaultUrl,
    );
    assert.equal(event?.eventType, 'Microsoft.KeyVault.VaultAccessPolicyChanged');
  });

  it('refuses an unreadable vault document rather than passing it over', () => {
    const broken = { ...vaultImage(vaultDoc, 2), vaultDoc: { B: Buffer.from('not gzip') } };
    assert.throws(
      () =>
        eventsFromTableChange(
          { eventName: 'MODIFY', oldImage: vaultImage(vaultDoc, 1), newImage: broken },
          vaultUrl,
        ),
      UnreadableImageError,
    );
    const [mapped] = tableStreamEvents(
      [
        {
          eventName: 'MODIFY',
          dynamodb: { SequenceNumber: '9', OldImage: vaultImage(vaultDoc, 1), NewImage: broken },
        },
      ],
      vaultUrl,
    );
    assert.equal(mapped?.unreadable, 'UnreadableImageError');
  });
});

describe('eventsFromAuditRecord', () => {
  it('maps a request refused with 403 to AccessDenied, with identifiers only', () => {
    const objectId = 'https://payments.vault.example.com/secrets/Db-Password';
    const [event, ...rest] = eventsFromAuditRecord(auditRecord(403, { id: objectId }));
    assert.equal(rest.length, 0);
    assert.equal(event?.eventType, 'Arca.KeyVault.AccessDenied');
    assert.equal(event?.topic, '/providers/Microsoft.KeyVault/vaults/payments');
    assert.equal(event?.subject, 'Db-Password');
    assert.equal(event?.eventTime, '2026-03-01T10:00:00.000Z');
    assert.deepEqual(event?.data, {
      VaultName: 'payments',
      OperationName: 'SecretGet',
      Caller: 'caller-oid',
      CorrelationId: 'corr-1',
      Id: objectId,
    });
    assert.equal(
      eventsFromAuditRecord(auditRecord(403, { id: objectId }))[0]?.id,
      event?.id,
      'same record, same id',
    );
    assert.ok(!JSON.stringify(event).includes('10.0.0.1'), 'no caller IP');
  });

  it('names the vault when the refused request named no object, and nothing for other statuses', () => {
    const [event] = eventsFromAuditRecord(auditRecord(403));
    assert.equal(event?.subject, 'payments');
    assert.equal((event?.data as { Id: string | null } | undefined)?.Id, null);
    for (const status of [200, 401, 404, 500])
      assert.deepEqual(eventsFromAuditRecord(auditRecord(status)), []);
  });

  it('reads records from the audit stream, skipping TTL removals', () => {
    const image = (r: AuditRecord): StreamImage => ({ record: { S: JSON.stringify(r) } });
    const mapped = auditStreamEvents([
      { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: image(auditRecord(200)) } },
      { eventName: 'MODIFY', dynamodb: { SequenceNumber: '2', NewImage: image(auditRecord(403)) } },
      { eventName: 'REMOVE', dynamodb: { SequenceNumber: '3' } },
      { eventName: 'INSERT', dynamodb: { SequenceNumber: '4', NewImage: { record: { S: '{' } } } },
    ]);
    assert.deepEqual(
      mapped.map((m) => [m.sequenceNumber, m.events.map((e) => e.eventType), m.unreadable]),
      [
        ['1', [], undefined],
        ['2', ['Arca.KeyVault.AccessDenied'], undefined],
        ['3', [], undefined],
        ['4', [], 'SyntaxError'],
      ],
    );
  });
});
