/**
 * The CloudHSM cluster's state, for the HSM health route: a thin adapter
 * around DescribeClusters (@aws-sdk/client-cloudhsm-v2), filtered by the
 * cluster id. It keeps the identifiers and states an operator needs (the
 * cluster's state and message; each HSM's id, state, Availability Zone and
 * ENI address) and nothing else: a Cluster also carries certificates, tags
 * and, until initialised, the pre-crypto-officer password, none of which may
 * leave.
 *
 * Failures become a ServiceUnavailableError naming at most the exception's
 * name, never AWS's message (which may hold ARNs, account ids or request
 * details).
 */
import type { CloudHSMV2Client, Cluster, Hsm } from '@aws-sdk/client-cloudhsm-v2';
import { DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { KeyVaultError, ServiceUnavailableError } from '#lib/errors.ts';
import { AwsCallTimeout, exceptionName, withDeadline } from './aws-call.ts';

export interface CloudHsmHsmHealth {
  readonly hsmId: string;
  /** ACTIVE, CREATE_IN_PROGRESS, DEGRADED, DELETE_IN_PROGRESS, DELETED. */
  readonly state: string;
  readonly stateMessage?: string;
  readonly availabilityZone?: string;
  readonly eniIp?: string;
}

export interface CloudHsmClusterHealth {
  readonly clusterId: string;
  /** ACTIVE, DEGRADED, UPDATE_IN_PROGRESS, UNINITIALIZED, INITIALIZED, … (CloudHSM's ClusterState). */
  readonly state: string;
  readonly stateMessage?: string;
  readonly hsms: readonly CloudHsmHsmHealth[];
}

export interface DescribeClusterOptions {
  /** How long DescribeClusters may take before the cluster counts as unreachable. @default 3000 */
  readonly timeoutMs?: number;
}

/** CloudHSM's cluster id format (cluster-[2-7a-zA-Z]{11,16}). */
const CLUSTER_ID = /^cluster-[2-7a-zA-Z]{11,16}$/;

/** AWS state messages are operator-facing text; they are kept, bounded. */
const MAX_MESSAGE = 512;

/** The state of one cluster and its HSMs. Throws a ServiceUnavailableError when it cannot be read. */
export async function describeCloudHsmCluster(
  client: Pick<CloudHSMV2Client, 'send'>,
  clusterId: string,
  options: DescribeClusterOptions = {},
): Promise<CloudHsmClusterHealth> {
  if (!CLUSTER_ID.test(clusterId)) {
    throw new ServiceUnavailableError(
      'ARCA_CLOUDHSM_CLUSTER_ID is not a CloudHSM cluster id (cluster-…); the cluster cannot be checked.',
    );
  }
  const timeoutMs = options.timeoutMs ?? 3_000;
  let clusters: Cluster[];
  try {
    const command = new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } });
    const out = await withDeadline(timeoutMs, (abortSignal) => client.send(command, { abortSignal }));
    clusters = out.Clusters ?? [];
  } catch (error) {
    throw translateCloudHsmError(error, clusterId, error instanceof AwsCallTimeout ? timeoutMs : undefined);
  }
  const cluster = clusters.find((c) => c.ClusterId === clusterId);
  if (!cluster) throw clusterNotFound(clusterId);
  return {
    clusterId,
    state: cluster.State ?? 'UNKNOWN',
    ...optionalText('stateMessage', cluster.StateMessage),
    hsms: (cluster.Hsms ?? []).map(hsmHealth),
  };
}

function hsmHealth(hsm: Hsm): CloudHsmHsmHealth {
  return {
    hsmId: hsm.HsmId ?? 'unknown',
    state: hsm.State ?? 'UNKNOWN',
    ...optionalText('stateMessage', hsm.StateMessage),
    ...optionalText('availabilityZone', hsm.AvailabilityZone),
    ...optionalText('eniIp', hsm.EniIp),
  };
}

function optionalText<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  if (!value) return {};
  return { [key]: value.slice(0, MAX_MESSAGE) } as { [P in K]?: string };
}

/**
 * Our 503 for a DescribeClusters failure: what an operator can act on (the
 * role lacks the permission, the API throttles, it did not answer in time),
 * and the exception's name, never its message.
 */
export function translateCloudHsmError(
  error: unknown,
  clusterId: string,
  timedOutAfterMs?: number,
): KeyVaultError {
  if (error instanceof KeyVaultError) return error;
  if (timedOutAfterMs !== undefined) {
    return new ServiceUnavailableError(
      `The CloudHSM API did not answer within ${timedOutAfterMs} ms; the cluster's state is unknown.`,
    );
  }
  const name = exceptionName(error);
  switch (name) {
    case 'CloudHsmAccessDeniedException':
    case 'AccessDeniedException':
      return new ServiceUnavailableError(
        `The CloudHSM API refused to describe the cluster (${name}): the function's role needs cloudhsm:DescribeClusters.`,
      );
    case 'CloudHsmResourceNotFoundException':
      return clusterNotFound(clusterId);
    case 'ThrottlingException':
    case 'CloudHsmThrottlingException':
      return new ServiceUnavailableError(
        `The CloudHSM API is throttling requests (${name}); the cluster's state is unknown, retry later.`,
      );
    default:
      return new ServiceUnavailableError(
        `The CloudHSM API could not describe the cluster (${name || 'unknown error'}).`,
      );
  }
}

const clusterNotFound = (clusterId: string) =>
  new ServiceUnavailableError(`The CloudHSM cluster ${clusterId} was not found in this account and region.`);
