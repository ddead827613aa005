/**
 * The HSM health report (GET /health/hsm on the management plane): which HSM
 * serves HSM-protected keys, and whether it can. It is assembled from what
 * each part reports (the PKCS#11 token, the CloudHSM cluster, KMS) and never
 * holds the PIN, key material or AWS's own error messages.
 *
 * Status, worst part wins:
 * - healthy: everything configured answers and is in a working state;
 * - degraded: keys can still be used, but something needs an operator (a
 *   cluster DEGRADED or being updated, an HSM of the cluster not ACTIVE, a
 *   PIN close to locking);
 * - unavailable: HSM keys cannot be used (the token cannot be opened or its
 *   PIN is locked, the cluster is not found, cannot be described, or has no
 *   ACTIVE HSM);
 * - off: the deployment has no HSM (ARCA_HSM=off); nothing to check.
 *
 * The HTTP status follows (`httpStatusOf`): 200 for healthy, degraded and
 * off, so operators read the status in the body; 503 for unavailable, which
 * is what load balancers, uptime monitors and synthetic canaries treat as
 * "down" without parsing anything. The 503 body is the same report, plus the
 * Key Vault error object (`error.code` ServiceUnavailable) that clients of
 * this API expect from any non-2xx answer.
 *
 * KMS (ARCA_HSM=kms) is a regional managed service with no per-deployment
 * state to probe short of using a key; its part names the region only, and is
 * healthy. A CloudHSM custom key store behind KMS is checked through its
 * cluster when ARCA_CLOUDHSM_CLUSTER_ID is set.
 */
import { KeyVaultError } from '../errors.ts';
import type { CloudHsmClusterHealth, CloudHsmHsmHealth } from './hsm/cloudhsm-health.ts';
import type { Pkcs11TokenInfo } from './hsm/pkcs11-health.ts';

export type HsmKind = 'pkcs11' | 'kms' | 'off';
export type HsmHealthStatus = 'healthy' | 'degraded' | 'unavailable' | 'off';
type PartStatus = Exclude<HsmHealthStatus, 'off'>;

export interface Pkcs11Health extends Partial<Omit<Pkcs11TokenInfo, 'tokenLabel'>> {
  readonly tokenLabel: string;
  readonly reachable: boolean;
  readonly status: PartStatus;
  /** Why the token is not reachable (our own message: a CKR code, never the PIN). */
  readonly error?: string;
}

export interface CloudHsmHealth {
  readonly clusterId: string;
  /** The cluster's state, or UNKNOWN when it could not be described. */
  readonly state: string;
  readonly stateMessage?: string;
  readonly hsms: readonly CloudHsmHsmHealth[];
  readonly activeHsms: number;
  readonly status: PartStatus;
  /** Why the cluster could not be described (our own message, at most an exception name). */
  readonly error?: string;
}

export interface KmsHealth {
  readonly region: string;
  readonly status: PartStatus;
}

export interface HsmHealthReport {
  readonly hsm: HsmKind;
  readonly status: HsmHealthStatus;
  /** When the report was made (ISO 8601). */
  readonly checkedAt: string;
  readonly pkcs11?: Pkcs11Health;
  readonly cloudHsm?: CloudHsmHealth;
  readonly kms?: KmsHealth;
}

export interface HsmHealthDeps {
  readonly hsm: HsmKind;
  /** ARCA_HSM=pkcs11: the token's label (from configuration) and a probe that opens and reads it. */
  readonly pkcs11?: { readonly tokenLabel: string; readonly probe: () => Promise<Pkcs11TokenInfo> };
  /** Whenever ARCA_CLOUDHSM_CLUSTER_ID is set (and an HSM is on). */
  readonly cloudHsm?: { readonly clusterId: string; readonly describe: () => Promise<CloudHsmClusterHealth> };
  /** ARCA_HSM=kms. */
  readonly kms?: { readonly region: string };
  readonly now: () => Date;
}

/** Makes the report: each configured part is checked, in parallel; none of them throws. */
export function makeGetHsmHealth(deps: HsmHealthDeps): () => Promise<HsmHealthReport> {
  return async () => {
    const checkedAt = deps.now().toISOString();
    if (deps.hsm === 'off') return { hsm: 'off', status: 'off', checkedAt };
    const [pkcs11, cloudHsm] = await Promise.all([
      deps.pkcs11 ? pkcs11Health(deps.pkcs11) : undefined,
      deps.cloudHsm ? cloudHsmHealth(deps.cloudHsm) : undefined,
    ]);
    const kms: KmsHealth | undefined = deps.kms ? { region: deps.kms.region, status: 'healthy' } : undefined;
    const parts = [pkcs11, cloudHsm, kms].filter((p) => p !== undefined);
    return {
      hsm: deps.hsm,
      // An HSM that is on but has nothing to check (misconfigured) cannot be called healthy.
      status: parts.length === 0 ? 'unavailable' : worst(parts.map((p) => p.status)),
      checkedAt,
      ...(pkcs11 && { pkcs11 }),
      ...(cloudHsm && { cloudHsm }),
      ...(kms && { kms }),
    };
  };
}

/** 200 unless HSM keys cannot be used: then 503, for monitors that read only the status code. */
export function httpStatusOf(report: HsmHealthReport): 200 | 503 {
  return report.status === 'unavailable' ? 503 : 200;
}

/** One line for the 503's Key Vault error message: what is unavailable. */
export function unavailableSummary(report: HsmHealthReport): string {
  const reasons: string[] = [];
  if (report.pkcs11?.status === 'unavailable') {
    reasons.push(`the PKCS#11 token "${report.pkcs11.tokenLabel}" is not usable`);
  }
  if (report.cloudHsm?.status === 'unavailable') {
    reasons.push(`the CloudHSM cluster ${report.cloudHsm.clusterId} is not usable`);
  }
  if (reasons.length === 0) reasons.push('no HSM is configured to check');
  return `The HSM is unavailable: ${reasons.join('; ')}. HSM-protected keys cannot be used.`;
}

const ORDER: readonly PartStatus[] = ['healthy', 'degraded', 'unavailable'];

function worst(statuses: readonly PartStatus[]): PartStatus {
  return statuses.reduce<PartStatus>((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'healthy');
}

async function pkcs11Health(part: NonNullable<HsmHealthDeps['pkcs11']>): Promise<Pkcs11Health> {
  try {
    const info = await part.probe();
    const status: PartStatus =
      info.pinLocked || !info.loggedIn ? 'unavailable' : info.pinCountLow ? 'degraded' : 'healthy';
    return { ...info, reachable: true, status };
  } catch (error) {
    return { tokenLabel: part.tokenLabel, reachable: false, status: 'unavailable', error: messageOf(error) };
  }
}

/** Cluster states in which its ACTIVE HSMs serve requests. */
const WORKING = new Set(['ACTIVE', 'DEGRADED', 'UPDATE_IN_PROGRESS']);

async function cloudHsmHealth(part: NonNullable<HsmHealthDeps['cloudHsm']>): Promise<CloudHsmHealth> {
  try {
    const cluster = await part.describe();
    const activeHsms = cluster.hsms.filter((h) => h.state === 'ACTIVE').length;
    let status: PartStatus;
    if (!WORKING.has(cluster.state) || activeHsms === 0) status = 'unavailable';
    else if (cluster.state !== 'ACTIVE' || activeHsms < cluster.hsms.length) status = 'degraded';
    else status = 'healthy';
    return { ...cluster, activeHsms, status };
  } catch (error) {
    return {
      clusterId: part.clusterId,
      state: 'UNKNOWN',
      hsms: [],
      activeHsms: 0,
      status: 'unavailable',
      error: messageOf(error),
    };
  }
}

/** Our errors' messages are written to be shown; anything else is named by its kind only. */
function messageOf(error: unknown): string {
  if (error instanceof KeyVaultError) return error.message;
  return 'The check failed unexpectedly.';
}
