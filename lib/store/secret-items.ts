import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SealedValue } from '../crypto/barrier.ts';
import type {
  Deletion,
  SecretAttributes,
  SecretHead,
  SecretSummary,
  SecretVersion,
} from '../secrets/model.ts';

/** Translation between secret records and DynamoDB items (see table-schema.ts). */
export type Item = Record<string, AttributeValue>;

/** The versioned collections of a vault that share this item layout. */
export type Collection = 'secrets' | 'keys';

export const secretPk = (vault: string, name: string, collection: Collection = 'secrets') =>
  `${vault.toLowerCase()}/${collection}/${name.toLowerCase()}`;
export const liveCollection = (vault: string, collection: Collection = 'secrets') =>
  `${vault.toLowerCase()}/${collection}`;
export const deletedCollection = (vault: string, collection: Collection = 'secrets') =>
  `${vault.toLowerCase()}/deleted${collection}`;

export function attributesToItem(a: SecretAttributes): AttributeValue {
  const m: Item = {
    enabled: { BOOL: a.enabled },
    created: { N: `${a.created}` },
    updated: { N: `${a.updated}` },
  };
  if (a.nbf !== undefined) m.nbf = { N: `${a.nbf}` };
  if (a.exp !== undefined) m.exp = { N: `${a.exp}` };
  return { M: m };
}

function attributesFromItem(v: AttributeValue | undefined): SecretAttributes {
  const m = v?.M ?? {};
  return {
    enabled: m.enabled?.BOOL ?? true,
    created: Number(m.created?.N ?? 0),
    updated: Number(m.updated?.N ?? 0),
    ...(m.nbf?.N !== undefined && { nbf: Number(m.nbf.N) }),
    ...(m.exp?.N !== undefined && { exp: Number(m.exp.N) }),
  };
}

export function tagsToItem(tags: Readonly<Record<string, string>>): AttributeValue {
  return { M: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, { S: v }])) };
}

function tagsFromItem(v: AttributeValue | undefined): Record<string, string> | undefined {
  if (!v?.M) return undefined;
  return Object.fromEntries(Object.entries(v.M).map(([k, t]) => [k, t.S ?? '']));
}

export function sealedToItem(s: SealedValue): AttributeValue {
  return {
    M: {
      kr: { S: s.keyring },
      wk: { B: s.wrappedKey },
      iv: { B: s.iv },
      tag: { B: s.tag },
      ct: { B: s.ciphertext },
    },
  };
}

function sealedFromItem(v: AttributeValue | undefined): SealedValue {
  const m = v?.M;
  if (!m?.kr?.S || !m.wk?.B || !m.iv?.B || !m.tag?.B || !m.ct?.B)
    throw new Error('stored secret version has no sealed value');
  const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    keyring: m.kr.S,
    wrappedKey: buf(m.wk.B),
    iv: buf(m.iv.B),
    tag: buf(m.tag.B),
    ciphertext: buf(m.ct.B),
  };
}

/** Keys of the expiry index for a head whose latest version expires at `exp` (Unix seconds). */
export function expiryKeys(pk: string, exp: number | undefined): Item {
  if (exp === undefined) return {};
  const iso = new Date(exp * 1000).toISOString();
  return { expBucket: { S: `exp#${iso.slice(0, 7)}` }, expSort: { S: `${iso}#${pk}` } };
}

/** The fields a version item and a head item share (the head holds a copy of the latest version). */
export function versionFields(v: SecretVersion): Item {
  const item: Item = {
    displayName: { S: v.name },
    attrs: attributesToItem(v.attributes),
    sealed: sealedToItem(v.sealed),
  };
  if (v.contentType !== undefined) item.contentType = { S: v.contentType };
  if (v.tags !== undefined) item.tags = tagsToItem(v.tags);
  if (v.managed !== undefined) item.managed = { BOOL: v.managed };
  if (v.kid !== undefined) item.kid = { S: v.kid };
  if (v.facts !== undefined) item.facts = { S: v.facts };
  return item;
}

function metaFromItem(item: Item, version: string): Omit<SecretSummary, 'deletion'> {
  const tags = tagsFromItem(item.tags);
  return {
    name: item.displayName?.S ?? '',
    version,
    attributes: attributesFromItem(item.attrs),
    ...(item.contentType?.S !== undefined && { contentType: item.contentType.S }),
    ...(tags && { tags }),
    ...(item.managed?.BOOL !== undefined && { managed: item.managed.BOOL }),
    ...(item.kid?.S !== undefined && { kid: item.kid.S }),
    ...(item.facts?.S !== undefined && { facts: item.facts.S }),
  };
}

export function deletionFromItem(item: Item): Deletion | undefined {
  if (item.deletedDate?.N === undefined) return undefined;
  return {
    deletedDate: Number(item.deletedDate.N),
    scheduledPurgeDate: Number(item.scheduledPurgeDate?.N ?? 0),
  };
}

export function versionFromItem(item: Item): SecretVersion {
  return { ...metaFromItem(item, item.version?.S ?? ''), sealed: sealedFromItem(item.sealed) };
}

/** A head item holds the latest version's fields under latestVersion. */
export function latestFromHead(item: Item): SecretVersion {
  return { ...metaFromItem(item, item.latestVersion?.S ?? ''), sealed: sealedFromItem(item.sealed) };
}

/** A head item as the store reports it: the latest version and the deletion state. */
export function headFromItem(item: Item): SecretHead {
  const deletion = deletionFromItem(item);
  return { latest: latestFromHead(item), ...(deletion && { deletion }) };
}

export function summaryFromHead(item: Item): SecretSummary {
  const deletion = deletionFromItem(item);
  return { ...metaFromItem(item, item.latestVersion?.S ?? ''), ...(deletion && { deletion }) };
}

export function summaryFromVersion(item: Item): SecretSummary {
  return metaFromItem(item, item.version?.S ?? '');
}
