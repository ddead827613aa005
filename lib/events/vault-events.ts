import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { AuditRecord } from '../audit/audit-record.ts';
import { HEAD_SK, VERSION_SK_PREFIX } from '../store/table-schema.ts';

/**
 * Vault events in the Event Grid schema, with Azure Key Vault's event types
 * and data shape (Microsoft.KeyVault.*), plus the ones Azure lacks
 * (Arca.KeyVault.*). Events carry identifiers and dates, never a value, a
 * tag or a policy: consumers read the object when they need more.
 *
 * Event ids are derived from what caused the event (a stream record's
 * sequence number, an audit record's id, a sweep's notification key), so a
 * retried delivery repeats the same id and consumers drop repeats by it.
 */
export type ObjectType = 'Secret' | 'Key' | 'Certificate';

export type VaultEventType =
  | `Microsoft.KeyVault.${ObjectType}${'NewVersionCreated' | 'NearExpiry' | 'Expired'}`
  | 'Microsoft.KeyVault.VaultAccessPolicyChanged'
  | `Arca.KeyVault.${ObjectType}${'Deleted' | 'Recovered' | 'Purged'}`
  | 'Arca.KeyVault.AccessDenied';

/** Azure's data of every Key Vault event (NBF and EXP in Unix seconds). */
export interface ObjectEventData {
  readonly Id: string;
  readonly VaultName: string;
  readonly ObjectType: ObjectType | 'Vault';
  readonly ObjectName: string;
  readonly Version: string | null;
  readonly NBF: number | null;
  readonly EXP: number | null;
}

export interface AccessDeniedData {
  readonly VaultName: string;
  readonly OperationName: string;
  /** The caller's object id, when the token was verified far enough to know it. */
  readonly Caller: string | null;
  readonly CorrelationId: string;
  /** The object the request was about, when it named one. */
  readonly Id: string | null;
}

export interface VaultEvent {
  readonly id: string;
  readonly topic: string;
  readonly subject: string;
  readonly eventType: VaultEventType;
  readonly eventTime: string;
  readonly data: ObjectEventData | AccessDeniedData;
  readonly dataVersion: '1';
  readonly metadataVersion: '1';
}

/** Where events go (EventBridge; a JSON Lines file and a webhook locally). Failures are named, not thrown. */
export interface EventPublisher {
  readonly name: string;
  publish(events: readonly VaultEvent[]): Promise<PublishResult>;
}

export interface PublishResult {
  readonly failedIds: string[];
  /** Error names or codes only: never a message, which could quote input. */
  readonly problems?: string[];
}

/** https://{vault-host} of a vault (no trailing slash), from configuration. */
export type VaultUrl = (vault: string) => string;

/** A DynamoDB attribute as a stream delivers it: Lambda gives binary as base64, the SDK as bytes. */
export interface StreamAttribute {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Uint8Array | string;
  readonly BOOL?: boolean;
  readonly M?: Readonly<Record<string, StreamAttribute>>;
}
export type StreamImage = Readonly<Record<string, StreamAttribute>>;

export interface TableChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly oldImage?: StreamImage;
  readonly newImage?: StreamImage;
  /** The stream record's sequence number: part of the event ids. */
  readonly sequenceNumber?: string;
  /** When the change happened (the record's ApproximateCreationDateTime), Unix seconds. */
  readonly time?: number;
}

/** Thrown for an image that should hold a readable vault document and does not: a bug, never skipped silently. */
export class UnreadableImageError extends Error {
  constructor(readonly what: string) {
    super(`Stream image of ${what} is unreadable`);
    this.name = 'UnreadableImageError';
  }
}

const OBJECT_TYPES: Readonly<Record<string, ObjectType>> = {
  secrets: 'Secret',
  keys: 'Key',
  certificates: 'Certificate',
};
const VAULT_SK = '#vault';
const VAULT_PK_PREFIX = '#vault/';

export interface ObjectRef {
  readonly vault: string;
  /** secrets, keys or certificates: the path segment of identifiers. */
  readonly collection: string;
  readonly type: ObjectType;
  /** Lower-cased, as in the key. */
  readonly name: string;
}

/** The object an item key names (`{vault}/{collection}/{name}`), if it names one. */
export function objectRef(pk: string | undefined): ObjectRef | undefined {
  const match = /^([a-z0-9-]+)\/([a-z]+)\/([^/]+)$/.exec(pk ?? '');
  const type = match && OBJECT_TYPES[match[2] as string];
  if (!match || !type) return undefined;
  return { vault: match[1] as string, collection: match[2] as string, type, name: match[3] as string };
}

/** A UUID-shaped id from what caused an event: the same cause gives the same id. */
export function eventId(...parts: readonly string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const topicOf = (vault: string) => `/providers/Microsoft.KeyVault/vaults/${vault}`;
const baseOf = (vaultUrl: VaultUrl, vault: string) => vaultUrl(vault).replace(/\/+$/, '');
const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
const numberOf = (a: StreamAttribute | undefined) => (a?.N === undefined ? null : Number(a.N));

export interface ObjectEventFacts {
  readonly type: VaultEventType;
  readonly ref: ObjectRef;
  /** The name as first created, when known; else the key's lower-cased name. */
  readonly displayName?: string;
  readonly version: string;
  readonly nbf: number | null;
  readonly exp: number | null;
  readonly time: number;
  /** What made the event, for its id. */
  readonly cause: string;
}

/** An event about one version of a secret, key or certificate, in Azure's data shape. */
export function objectEvent(f: ObjectEventFacts, vaultUrl: VaultUrl): VaultEvent {
  const name = f.displayName || f.ref.name;
  return {
    id: eventId(f.type, `${f.ref.vault}/${f.ref.collection}/${f.ref.name}`, f.version, f.cause),
    topic: topicOf(f.ref.vault),
    subject: name,
    eventType: f.type,
    eventTime: isoOf(f.time),
    data: {
      Id: `${baseOf(vaultUrl, f.ref.vault)}/${f.ref.collection}/${name}/${f.version}`,
      VaultName: f.ref.vault,
      ObjectType: f.ref.type,
      ObjectName: name,
      Version: f.version,
      NBF: f.nbf,
      EXP: f.exp,
    },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

/**
 * The events a change to the main table means (lib/store/table-schema.ts):
 *   a version item inserted          {Type}NewVersionCreated (a restore inserts each restored version)
 *   a head gains deletedDate         {Type}Deleted
 *   a head loses deletedDate         {Type}Recovered
 *   a head removed                   {Type}Purged (by a purge, or by its vault's purge)
 *   a vault's access changes         VaultAccessPolicyChanged (policies, role assignments, or the model)
 * Anything else (updates of attributes, the purge marker, notification markers) means nothing.
 */
export function eventsFromTableChange(change: TableChange, vaultUrl: VaultUrl): VaultEvent[] {
  const image = change.newImage ?? change.oldImage;
  const pk = image?.pk?.S;
  const sk = image?.sk?.S ?? '';
  if (sk === VAULT_SK && pk?.startsWith(VAULT_PK_PREFIX)) return vaultEvents(change, pk, vaultUrl);
  const ref = objectRef(pk);
  if (!ref) return [];
  const old = change.oldImage;
  const now = change.newImage;
  /** An event about the version an item describes: a head holds its latest version's fields. */
  const about = (type: VaultEventType, item: StreamImage, version: string, time: number | null) => {
    const attrs = item.attrs?.M;
    const facts: ObjectEventFacts = {
      type,
      ref,
      displayName: item.displayName?.S ?? '',
      version,
      nbf: numberOf(attrs?.nbf),
      exp: numberOf(attrs?.exp),
      time: change.time ?? time ?? 0,
      cause: change.sequenceNumber ?? '',
    };
    return [objectEvent(facts, vaultUrl)];
  };

  if (change.eventName === 'INSERT' && now && sk.startsWith(VERSION_SK_PREFIX)) {
    const version = now.version?.S ?? sk.slice(VERSION_SK_PREFIX.length);
    const created = numberOf(now.attrs?.M?.created);
    return about(`Microsoft.KeyVault.${ref.type}NewVersionCreated`, now, version, created);
  }
  if (sk !== HEAD_SK) return [];
  if (change.eventName === 'REMOVE' && old) {
    return about(`Arca.KeyVault.${ref.type}Purged`, old, old.latestVersion?.S ?? '', null);
  }
  if (change.eventName !== 'MODIFY' || !old || !now) return [];
  const wasDeleted = old.deletedDate?.N !== undefined;
  const isDeleted = now.deletedDate?.N !== undefined;
  const latest = now.latestVersion?.S ?? '';
  if (!wasDeleted && isDeleted) {
    return about(`Arca.KeyVault.${ref.type}Deleted`, now, latest, numberOf(now.deletedDate));
  }
  if (wasDeleted && !isDeleted) return about(`Arca.KeyVault.${ref.type}Recovered`, now, latest, null);
  return [];
}

/** Who may do what in a vault: access policies, role assignments, and which of the two applies. */
function accessOf(image: StreamImage, pk: string): string {
  const raw = image.vaultDoc?.B;
  if (raw === undefined) throw new UnreadableImageError(pk);
  try {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
    const doc = JSON.parse(gunzipSync(bytes).toString('utf8')) as Record<string, unknown>;
    return JSON.stringify([
      doc.accessPolicies ?? [],
      doc.roleAssignments ?? [],
      doc.enableRbacAuthorization ?? false,
    ]);
  } catch {
    throw new UnreadableImageError(pk);
  }
}

function vaultEvents(change: TableChange, pk: string, vaultUrl: VaultUrl): VaultEvent[] {
  // A vault's creation and purge are not access changes; its management calls are audited.
  if (change.eventName !== 'MODIFY' || !change.oldImage || !change.newImage) return [];
  if (accessOf(change.oldImage, pk) === accessOf(change.newImage, pk)) return [];
  const vault = pk.slice(VAULT_PK_PREFIX.length);
  const type = 'Microsoft.KeyVault.VaultAccessPolicyChanged';
  const revision = change.newImage.revision?.N ?? '';
  return [
    {
      id: eventId(type, vault, revision, change.sequenceNumber ?? ''),
      topic: topicOf(vault),
      subject: vault,
      eventType: type,
      eventTime: isoOf(change.time ?? 0),
      data: {
        Id: `${baseOf(vaultUrl, vault)}/`,
        VaultName: vault,
        ObjectType: 'Vault',
        ObjectName: vault,
        Version: null,
        NBF: null,
        EXP: null,
      },
      dataVersion: '1',
      metadataVersion: '1',
    },
  ];
}

/**
 * AccessDenied for a request refused with 403: Arca refuses with 403 when
 * authorization says no, and also for operations on a disabled secret and
 * purges under purge protection (as Azure does); all count as denials here.
 */
export function eventsFromAuditRecord(record: AuditRecord): VaultEvent[] {
  if (record.properties.httpStatusCode !== 403) return [];
  const objectId = record.properties.id;
  const type = 'Arca.KeyVault.AccessDenied';
  const objectName =
    objectId && URL.canParse(objectId) ? new URL(objectId).pathname.split('/')[2] : undefined;
  return [
    {
      id: eventId(type, record.id),
      topic: record.resourceId,
      subject: objectName || record.vault,
      eventType: type,
      eventTime: record.time,
      data: {
        VaultName: record.vault,
        OperationName: record.operationName,
        Caller: record.identity.claim.oid ?? null,
        CorrelationId: record.correlationId,
        Id: objectId ?? null,
      },
      dataVersion: '1',
      metadataVersion: '1',
    },
  ];
}
