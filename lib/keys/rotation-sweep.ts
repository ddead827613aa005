import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-log.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import type { VaultUrl } from '../events/vault-events.ts';
import type { RotationPolicyRef } from '../store/key-store.ts';
import { RotationSupersededError } from '../store/key-store.ts';
import type { Vault } from '../vaults/model.ts';
import type { KeysDeps } from './keys-deps.ts';
import { rotateVersion } from './rotate-key.ts';
import { parseStoredPolicy, rotationDueAt } from './rotation-policy.ts';

/** Who the sweep's audit records name as the caller: the service itself, not a principal. */
export const ROTATION_SWEEP_CALLER = 'arca-key-rotation';

export interface RotationSweepDeps {
  readonly keys: Pick<KeysDeps, 'store' | 'barrier' | 'backends' | 'now' | 'newVersionId'>;
  /** Vault records (the SKU decides which key types may be made; a deleted vault's keys are left alone). */
  readonly vaults: { get(name: string): Promise<Vault | undefined> };
  /** https://{vault-host}: the ids in the audit records. */
  readonly vaultUrl: VaultUrl;
  /** Keys rotated at once. @default 8 */
  readonly concurrency?: number;
}

export interface RotationSweepResult {
  /** Keys with a policy that were looked at. */
  checked: number;
  /** `{vault}/{name}/{new version}` of each version made. */
  readonly rotated: string[];
  /** Due, but another sweep (or a change to the key) got there first: nothing was made. */
  readonly superseded: string[];
  /** `{vault}/{name}` and an error name (never a message): the next sweep tries again. */
  readonly failed: Array<{ readonly key: string; readonly problem: string }>;
}

/**
 * The rotation sweep (run every hour by EventBridge Scheduler, and on a timer
 * in local mode): for every key with a rotation policy whose Rotate action is
 * due for its latest version (created + timeAfterCreate, or exp -
 * timeBeforeExpiry, at or before now), makes one new version as RotateKey
 * does, with an audit record (operationName KeyRotate, the service as the
 * caller) in the same transaction.
 *
 * Once per version, however many sweeps run at once: the new version lands
 * only while the version it replaces is still the latest, and the policy item
 * is marked with the version rotated from (KeyStore.putRotatedVersion); a
 * sweep that loses that race destroys what it made (an HSM key) and moves on.
 * A sweep that runs late rotates once, not once per missed interval.
 *
 * Left alone: deleted keys, keys of deleted vaults, and keys whose latest
 * version is disabled (rotating would hand out an enabled key its owner
 * switched off). Notify actions are not the sweep's: the expiry sweep sends
 * KeyNearExpiry at the policy's timeBeforeExpiry (lib/events/expiry-sweep.ts).
 */
export function makeRotationSweep(deps: RotationSweepDeps): () => Promise<RotationSweepResult> {
  const { store } = deps.keys;
  const concurrency = deps.concurrency ?? 8;
  return async () => {
    const result: RotationSweepResult = { checked: 0, rotated: [], superseded: [], failed: [] };
    for await (const page of store.listRotationPolicies()) {
      for (let i = 0; i < page.length; i += concurrency) {
        await Promise.all(page.slice(i, i + concurrency).map((ref) => sweepOne(deps, ref, result)));
      }
    }
    return result;
  };
}

async function sweepOne(deps: RotationSweepDeps, ref: RotationPolicyRef, result: RotationSweepResult) {
  const { store } = deps.keys;
  const label = `${ref.vault}/${ref.name}`;
  result.checked++;
  try {
    const vault = await deps.vaults.get(ref.vault);
    if (!vault || vault.deletion) return;
    const [stored, head] = await Promise.all([
      store.getRotationPolicy(ref.vault, ref.name),
      store.getHead(ref.vault, ref.name),
    ]);
    if (!stored || !head || head.deletion) return;
    const latest = head.latest;
    if (!latest.attributes.enabled || stored.rotatedFrom === latest.version) return;
    const dueAt = rotationDueAt(parseStoredPolicy(stored.policy), latest.attributes);
    if (dueAt === undefined || dueAt > deps.keys.now()) return;

    const audit = sweepAuditEntry(deps.vaultUrl(ref.vault), ref.vault, latest.name, deps.keys.now());
    const made = await rotateVersion(deps.keys, { name: ref.vault, sku: vault.sku }, latest, audit, {
      once: true,
    });
    result.rotated.push(`${label}/${made.version}`);
  } catch (error) {
    if (error instanceof RotationSupersededError) result.superseded.push(label);
    else result.failed.push({ key: label, problem: error instanceof Error ? error.name : 'UnknownError' });
  }
}

/**
 * The audit record of one rotation the sweep makes, in the shape of a
 * request's (lib/audit/audit-trail.ts): operationName KeyRotate, the service
 * as the caller, access granted by the key's rotation policy.
 */
function sweepAuditEntry(vaultUrl: string, vault: string, name: string, now: number): AuditEntry {
  const id = randomUUID();
  const trail = new AuditTrail(undefined, {
    id,
    time: new Date(now * 1000).toISOString(),
    correlationId: id,
    callerIpAddress: '',
    clientInfo: ROTATION_SWEEP_CALLER,
    requestUri: `${vaultUrl}/keys/${name}/rotate`,
  });
  trail.forVault(vault, vaultUrl);
  trail.forOperation('KeyRotate', '');
  trail.byPrincipal({ objectId: ROTATION_SWEEP_CALLER, appId: ROTATION_SWEEP_CALLER });
  trail.grantedBy({ via: 'rotationPolicy', id: `${vaultUrl}/keys/${name}/rotationpolicy` });
  trail.aboutObject(`${vaultUrl}/keys/${name}`);
  return trail.forChange(200);
}
