import type { AuditEntry } from '../audit/audit-log.ts';
import { BadParameterError } from '../errors.ts';
import type { StoredRotationPolicy } from '../store/key-store.ts';
import { findLiveKeyVersion } from './get-key.ts';
import {
  addDuration,
  type IsoDuration,
  nominalDays,
  nominalSeconds,
  parseIsoDuration,
  subtractDuration,
} from './iso-duration.ts';
import { keyNotFound } from './key-names.ts';
import type { KeysDeps } from './keys-deps.ts';

/**
 * Key rotation policies (the specification's KeyRotationPolicy): what is
 * stored, how a request's policy is checked, and the answer's shape.
 *
 * The rules, after Azure's ("rotation time: the minimum value is seven days
 * from creation and seven days from expiration time"; expiryTime at least 28
 * days):
 *   - action.type is Rotate or Notify (any case in, canonical out); each
 *     action has exactly one trigger; Notify only with timeBeforeExpiry;
 *     at most one Rotate and one Notify;
 *   - every duration is ISO 8601 (lib/keys/iso-duration.ts), at most 100 years;
 *   - attributes.expiryTime is at least 28 days;
 *   - timeAfterCreate and timeBeforeExpiry are at least 7 days;
 *   - with expiryTime: a Rotate trigger leaves at least 7 days on both sides
 *     (timeAfterCreate + 7 days <= expiryTime, timeBeforeExpiry + 7 days <=
 *     expiryTime, so a version made by rotation is never due again at once),
 *     and Notify's timeBeforeExpiry is shorter than expiryTime;
 *   - Notify's timeBeforeExpiry is at most 90 days: the expiry sweep looks
 *     that far ahead (lib/events/expiry-sweep.ts), and a notice it could not
 *     send on time is refused here rather than sent late.
 * Durations are compared by their nominal length (a month 30 days, a year
 * 365), so an answer does not depend on the day it is given.
 *
 * As Azure does, a policy stored without a Notify action gets the default
 * one (30 days before expiry), and a key with no policy reads as that
 * default alone, with no id and no times.
 */
export type LifetimeActionType = 'Rotate' | 'Notify';

export interface LifetimeAction {
  readonly trigger: { readonly timeAfterCreate?: string; readonly timeBeforeExpiry?: string };
  readonly action: { readonly type: LifetimeActionType };
}

/** The policy as stored (the JSON in the policy item) and as answered, without its id and times. */
export interface RotationPolicyDocument {
  readonly lifetimeActions: readonly LifetimeAction[];
  readonly attributes: { readonly expiryTime?: string };
}

/** A request's KeyRotationPolicy, as the handler's schema lets it through (read-only members ignored). */
export interface RotationPolicyInput {
  readonly lifetimeActions?:
    | ReadonlyArray<{
        readonly trigger?:
          | { readonly timeAfterCreate?: string | null; readonly timeBeforeExpiry?: string | null }
          | null
          | undefined;
        readonly action?: { readonly type?: string | null } | null | undefined;
      }>
    | null
    | undefined;
  readonly attributes?: { readonly expiryTime?: string | null } | null | undefined;
}

export const MIN_EXPIRY_DAYS = 28;
export const MIN_TRIGGER_DAYS = 7;
/** The furthest ahead of expiry a Notify action may ask for: the expiry sweep's look-ahead. */
export const MAX_NOTIFY_DAYS = 90;
const MAX_DURATION_DAYS = 100 * 365;
const DAY = 86_400;

export const DEFAULT_NOTIFY: LifetimeAction = {
  trigger: { timeBeforeExpiry: 'P30D' },
  action: { type: 'Notify' },
};

/** What a key with no policy of its own answers: Azure's default, notify 30 days before expiry. */
export const DEFAULT_POLICY: RotationPolicyDocument = { lifetimeActions: [DEFAULT_NOTIFY], attributes: {} };

const ACTION_TYPES: Readonly<Record<string, LifetimeActionType>> = { rotate: 'Rotate', notify: 'Notify' };

/** Checks a request's policy against the rules above; BadParameter naming the field otherwise. */
export function validateRotationPolicy(input: RotationPolicyInput): RotationPolicyDocument {
  const expiryText = input.attributes?.expiryTime ?? undefined;
  const expiry = expiryText === undefined ? undefined : duration(expiryText, 'attributes.expiryTime');
  if (expiry && nominalSeconds(expiry) < MIN_EXPIRY_DAYS * DAY) {
    throw new BadParameterError(
      `attributes.expiryTime must be at least ${MIN_EXPIRY_DAYS} days (P${MIN_EXPIRY_DAYS}D).`,
    );
  }

  const actions: LifetimeAction[] = [];
  for (const [i, raw] of (input.lifetimeActions ?? []).entries()) {
    const at = `lifetimeActions[${i}]`;
    const typeText = raw?.action?.type;
    const type = typeof typeText === 'string' ? ACTION_TYPES[typeText.toLowerCase()] : undefined;
    if (!type) throw new BadParameterError(`${at}.action.type must be Rotate or Notify.`);
    if (actions.some((a) => a.action.type === type)) {
      throw new BadParameterError(
        `lifetimeActions may hold at most one Rotate action and one Notify action; ${at} is a second ${type}.`,
      );
    }
    const afterCreate = raw.trigger?.timeAfterCreate ?? undefined;
    const beforeExpiry = raw.trigger?.timeBeforeExpiry ?? undefined;
    if ((afterCreate === undefined) === (beforeExpiry === undefined)) {
      throw new BadParameterError(
        `${at}.trigger must set exactly one of timeAfterCreate and timeBeforeExpiry.`,
      );
    }
    if (type === 'Notify' && afterCreate !== undefined) {
      throw new BadParameterError(
        `${at}.trigger: a Notify action is triggered by timeBeforeExpiry only, not timeAfterCreate.`,
      );
    }
    const field = `${at}.trigger.${afterCreate !== undefined ? 'timeAfterCreate' : 'timeBeforeExpiry'}`;
    const d = duration((afterCreate ?? beforeExpiry) as string, field);
    checkTrigger(d, field, type, afterCreate !== undefined, expiry);
    actions.push({
      trigger:
        afterCreate !== undefined ? { timeAfterCreate: afterCreate } : { timeBeforeExpiry: beforeExpiry },
      action: { type },
    });
  }
  if (!actions.some((a) => a.action.type === 'Notify')) actions.push(DEFAULT_NOTIFY);
  return { lifetimeActions: actions, attributes: expiryText === undefined ? {} : { expiryTime: expiryText } };
}

function duration(text: unknown, field: string): IsoDuration {
  const d = parseIsoDuration(text as string, field);
  if (nominalSeconds(d) > MAX_DURATION_DAYS * DAY) {
    throw new BadParameterError(`${field} must be at most 100 years.`);
  }
  return d;
}

function checkTrigger(
  d: IsoDuration,
  field: string,
  type: LifetimeActionType,
  afterCreate: boolean,
  expiry: IsoDuration | undefined,
): void {
  const seconds = nominalSeconds(d);
  if (seconds < MIN_TRIGGER_DAYS * DAY) {
    throw new BadParameterError(
      `${field} must be at least ${MIN_TRIGGER_DAYS} days (P${MIN_TRIGGER_DAYS}D).`,
    );
  }
  if (type === 'Notify') {
    if (seconds > MAX_NOTIFY_DAYS * DAY) {
      throw new BadParameterError(
        `${field} must be at most ${MAX_NOTIFY_DAYS} days (P${MAX_NOTIFY_DAYS}D): Arca sends near-expiry ` +
          `notices at most ${MAX_NOTIFY_DAYS} days ahead.`,
      );
    }
    if (expiry && seconds >= nominalSeconds(expiry)) {
      throw new BadParameterError(`${field} must be shorter than attributes.expiryTime.`);
    }
    return;
  }
  if (expiry && seconds + MIN_TRIGGER_DAYS * DAY > nominalSeconds(expiry)) {
    throw new BadParameterError(
      afterCreate
        ? `${field} must be at least ${MIN_TRIGGER_DAYS} days shorter than attributes.expiryTime: a key is rotated at least ${MIN_TRIGGER_DAYS} days before it expires.`
        : `${field} must be at least ${MIN_TRIGGER_DAYS} days shorter than attributes.expiryTime: a key is rotated no sooner than ${MIN_TRIGGER_DAYS} days after it is made.`,
    );
  }
}

/** A stored policy's JSON, read back (it was checked when stored). */
export function parseStoredPolicy(json: string): RotationPolicyDocument {
  const parsed = JSON.parse(json) as Partial<RotationPolicyDocument>;
  return {
    lifetimeActions: Array.isArray(parsed.lifetimeActions) ? parsed.lifetimeActions : [],
    attributes: parsed.attributes ?? {},
  };
}

/** The duration new versions made by rotation live (attributes.expiryTime), if the policy sets one. */
export function expiryTimeOf(policy: RotationPolicyDocument): IsoDuration | undefined {
  const text = policy.attributes.expiryTime;
  return text ? parseIsoDuration(text, 'attributes.expiryTime') : undefined;
}

/**
 * When the Rotate action of a policy falls due for a key's latest version:
 * created + timeAfterCreate, or exp - timeBeforeExpiry (none when the version
 * has no expiry); undefined when the policy does not rotate.
 */
export function rotationDueAt(
  policy: RotationPolicyDocument,
  latest: { readonly created: number; readonly exp?: number | undefined },
): number | undefined {
  const rotate = policy.lifetimeActions.find((a) => a.action?.type === 'Rotate');
  const { timeAfterCreate, timeBeforeExpiry } = rotate?.trigger ?? {};
  if (timeAfterCreate)
    return addDuration(latest.created, parseIsoDuration(timeAfterCreate, 'timeAfterCreate'));
  if (timeBeforeExpiry && latest.exp !== undefined) {
    return subtractDuration(latest.exp, parseIsoDuration(timeBeforeExpiry, 'timeBeforeExpiry'));
  }
  return undefined;
}

/**
 * How many days before expiry the policy's Notify action asks for a
 * near-expiry notice (its nominal length, rounded up to whole days), for the
 * expiry sweep; undefined when the JSON holds no readable Notify action.
 */
export function notifyDaysOf(json: string): number | undefined {
  try {
    const notify = parseStoredPolicy(json).lifetimeActions.find((a) => a.action?.type === 'Notify');
    const text = notify?.trigger?.timeBeforeExpiry;
    return text ? nominalDays(parseIsoDuration(text, 'timeBeforeExpiry')) : undefined;
  } catch {
    return undefined;
  }
}

/** KeyRotationPolicy: the stored policy with its id and times, or Azure's default (no id, no times). */
export function rotationPolicyBundle(
  vaultUrl: string,
  name: string,
  stored: StoredRotationPolicy | undefined,
) {
  if (!stored) {
    return {
      lifetimeActions: DEFAULT_POLICY.lifetimeActions,
      attributes: {},
    };
  }
  const policy = parseStoredPolicy(stored.policy);
  return {
    id: `${vaultUrl}/keys/${name}/rotationpolicy`,
    lifetimeActions: policy.lifetimeActions,
    attributes: {
      ...(policy.attributes.expiryTime !== undefined && { expiryTime: policy.attributes.expiryTime }),
      created: stored.created,
      updated: stored.updated,
    },
  };
}

/** GetKeyRotationPolicy: the policy of a live key (KeyNotFound for an unknown or deleted one). */
export function makeGetKeyRotationPolicy(deps: Pick<KeysDeps, 'store'>) {
  return async (vault: string, rawName: string | undefined) => {
    const latest = await findLiveKeyVersion(deps, vault, rawName);
    return { name: latest.name, stored: await deps.store.getRotationPolicy(vault, latest.name) };
  };
}

/** UpdateKeyRotationPolicy: checks and stores the policy of a live key, with the request's audit record. */
export function makeUpdateKeyRotationPolicy(deps: Pick<KeysDeps, 'store' | 'now'>) {
  return async (
    vault: string,
    rawName: string | undefined,
    input: RotationPolicyInput,
    audit?: AuditEntry,
  ) => {
    const policy = validateRotationPolicy(input);
    const latest = await findLiveKeyVersion(deps, vault, rawName);
    const stored = await deps.store.putRotationPolicy(
      vault,
      latest.name,
      JSON.stringify(policy),
      deps.now(),
      audit,
    );
    if (!stored) throw keyNotFound(latest.name);
    return { name: latest.name, stored };
  };
}
