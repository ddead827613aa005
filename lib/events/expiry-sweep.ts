import { MAX_NOTIFY_DAYS, notifyDaysOf } from '../keys/rotation-policy.ts';
import {
  type EventPublisher,
  type ObjectRef,
  objectEvent,
  objectRef,
  type VaultEvent,
  type VaultEventType,
  type VaultUrl,
} from './vault-events.ts';

/** A head as the expiry index projects it (lib/store/table-schema.ts, expiryIndex). */
export interface ExpiringHead {
  /** `{vault}/{collection}/{name}`. */
  readonly pk: string;
  readonly displayName?: string;
  readonly latestVersion: string;
  readonly enabled: boolean;
  /** Unix seconds. */
  readonly exp: number;
  readonly nbf?: number;
  readonly tags?: Readonly<Record<string, string>>;
  readonly deleted: boolean;
}

export interface ExpirySweepDeps {
  /** Heads whose expiry lies in [fromIso, toIso], by the expiry index (never a scan). */
  queryExpiring(fromIso: string, toIso: string): Promise<ExpiringHead[]>;
  /** Records that an event was sent; false when it already was (a conditional write). */
  markNotified(eventKey: string): Promise<boolean>;
  /** Undoes markNotified for an event that could not be published, so the next sweep tries again. */
  forgetNotified(eventKey: string): Promise<void>;
  /** The keys among these already marked (a cheap read that spares most conditional writes). */
  notifiedAmong?(eventKeys: readonly string[]): Promise<Set<string>>;
  /**
   * For key heads (by `pk`): the days before expiry their rotation policy's
   * Notify action asks for; keys without a policy are absent.
   */
  notifyDaysOf?(keyPks: readonly string[]): Promise<ReadonlyMap<string, number>>;
  publish: EventPublisher['publish'];
  /** Milliseconds since the epoch. */
  now(): number;
  vaultUrl: VaultUrl;
}

export interface SweepResult {
  /** Heads in the window that are live, enabled and within their threshold. */
  readonly due: number;
  readonly published: string[];
  /** Marked, but not delivered: unmarked again for the next sweep (unless unmarking failed too). */
  readonly failed: string[];
}

const DAY_MS = 86_400_000;
export const DEFAULT_NEAR_EXPIRY_DAYS = 30;
/** The largest threshold an object may ask for, and so how far ahead the sweep looks (a Notify action's limit too). */
export const MAX_NEAR_EXPIRY_DAYS = MAX_NOTIFY_DAYS;
/**
 * How far back the sweep looks for Expired: a sweep that did not run for up
 * to a day (it runs every 15 minutes) still reports what expired meanwhile.
 * An object that expired earlier than that (or was created already expired)
 * gets no Expired event.
 */
export const EXPIRED_CATCH_UP_MS = DAY_MS;
export const NEAR_EXPIRY_TAG = 'arca-near-expiry-days';
const MARK_CONCURRENCY = 25;

/**
 * How many days before expiry an object's NearExpiry is due: for a key with a
 * rotation policy, its Notify action's timeBeforeExpiry (`policyDays`, 7-90
 * days: lib/keys/rotation-policy.ts); else the tag `arca-near-expiry-days`
 * (whole days, 1-90); else 30 (a key without a policy: Azure's default
 * policy, notify 30 days before expiry).
 */
export function thresholdFor(head: Pick<ExpiringHead, 'tags'>, policyDays?: number): number {
  if (policyDays !== undefined && Number.isInteger(policyDays)) {
    if (policyDays >= 1 && policyDays <= MAX_NEAR_EXPIRY_DAYS) return policyDays;
  }
  const raw = head.tags?.[NEAR_EXPIRY_TAG]?.trim();
  if (raw && /^\d{1,2}$/.test(raw)) {
    const days = Number(raw);
    if (days >= 1 && days <= MAX_NEAR_EXPIRY_DAYS) return days;
  }
  return DEFAULT_NEAR_EXPIRY_DAYS;
}

/**
 * NearExpiry and Expired, from the expiry index. Each event is published once
 * per object version and threshold, however often and however concurrently
 * the sweep runs: its notification key is written conditionally first, and
 * only the writer that created it publishes. The key is
 * `{eventType}#{vault}/{collection}/{name}/{version}#{thresholdDays}`, with
 * threshold 0 for Expired (a version expires once, whatever its threshold).
 *
 * A sweep that dies between marking and publishing loses those events; a
 * publish that fails is unmarked, so the next sweep publishes again.
 */
export function makeExpirySweep(deps: ExpirySweepDeps): () => Promise<SweepResult> {
  return async () => {
    const nowMs = deps.now();
    const now = Math.floor(nowMs / 1000);
    const from = new Date(nowMs - EXPIRED_CATCH_UP_MS).toISOString();
    const to = new Date(nowMs + MAX_NEAR_EXPIRY_DAYS * DAY_MS).toISOString();
    const due: Array<{ key: string; event: VaultEvent }> = [];
    const heads = (await deps.queryExpiring(from, to)).filter(
      (head) => !head.deleted && head.enabled && head.latestVersion,
    );
    const keyPks = heads.filter((head) => objectRef(head.pk)?.type === 'Key').map((head) => head.pk);
    const policyDays =
      deps.notifyDaysOf && keyPks.length > 0 ? await deps.notifyDaysOf(keyPks) : new Map<string, number>();
    for (const head of heads) {
      const ref = objectRef(head.pk);
      if (!ref) continue;
      const threshold = thresholdFor(head, policyDays.get(head.pk));
      if (head.exp <= now) due.push(expiryEvent('Expired', ref, head, 0, now, deps.vaultUrl));
      else if (head.exp - now <= threshold * 86_400) {
        due.push(expiryEvent('NearExpiry', ref, head, threshold, now, deps.vaultUrl));
      }
    }

    const published: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < due.length; i += MARK_CONCURRENCY) {
      let chunk = due.slice(i, i + MARK_CONCURRENCY);
      if (deps.notifiedAmong) {
        const already = await deps.notifiedAmong(chunk.map((d) => d.key));
        chunk = chunk.filter((d) => !already.has(d.key));
      }
      const marked = await Promise.all(chunk.map((d) => deps.markNotified(d.key)));
      const won = chunk.filter((_, j) => marked[j]);
      if (won.length === 0) continue;
      const result = await deps.publish(won.map((d) => d.event));
      const undelivered = new Set(result.failedIds);
      for (const d of won) {
        if (!undelivered.has(d.event.id)) {
          published.push(d.event.id);
          continue;
        }
        failed.push(d.event.id);
        await deps.forgetNotified(d.key).catch(() => undefined);
      }
    }
    return { due: due.length, published, failed };
  };
}

/** An expiry index (lib/store/dynamo-expiry-index.ts): the sweep's store. */
export type ExpiryIndex = Pick<ExpirySweepDeps, 'queryExpiring' | 'markNotified' | 'forgetNotified'> &
  Required<Pick<ExpirySweepDeps, 'notifiedAmong'>>;

/** Where keys' rotation policies are read (DynamoKeyStore): policy JSON by key item key. */
export interface RotationPolicySource {
  rotationPoliciesOf(keyPks: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** The sweep over an expiry index, publishing through one publisher: as the Lambda and local mode run it. */
export function expirySweepOver(
  index: ExpiryIndex,
  publisher: Pick<EventPublisher, 'publish'>,
  vaultUrl: VaultUrl,
  policies?: RotationPolicySource,
): () => Promise<SweepResult> {
  return makeExpirySweep({
    queryExpiring: (from, to) => index.queryExpiring(from, to),
    notifiedAmong: (keys) => index.notifiedAmong(keys),
    markNotified: (key) => index.markNotified(key),
    forgetNotified: (key) => index.forgetNotified(key),
    ...(policies && { notifyDaysOf: (pks) => notifyDaysFrom(policies, pks) }),
    publish: (events) => publisher.publish(events),
    now: Date.now,
    vaultUrl,
  });
}

/** The Notify thresholds (days) of the keys among these that have a rotation policy. */
export async function notifyDaysFrom(
  policies: RotationPolicySource,
  keyPks: readonly string[],
): Promise<Map<string, number>> {
  const days = new Map<string, number>();
  for (const [pk, json] of await policies.rotationPoliciesOf(keyPks)) {
    const d = notifyDaysOf(json);
    if (d !== undefined) days.set(pk, d);
  }
  return days;
}

function expiryEvent(
  what: 'NearExpiry' | 'Expired',
  ref: ObjectRef,
  head: ExpiringHead,
  thresholdDays: number,
  now: number,
  vaultUrl: VaultUrl,
): { key: string; event: VaultEvent } {
  const type: VaultEventType = `Microsoft.KeyVault.${ref.type}${what}`;
  const key = `${type}#${ref.vault}/${ref.collection}/${ref.name}/${head.latestVersion}#${thresholdDays}`;
  const event = objectEvent(
    {
      type,
      ref,
      ...(head.displayName !== undefined && { displayName: head.displayName }),
      version: head.latestVersion,
      nbf: head.nbf ?? null,
      exp: head.exp,
      time: now,
      cause: key,
    },
    vaultUrl,
  );
  return { key, event };
}
