import type { CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';
import type { Config } from '#lib/config.ts';
import { managementOperation } from '#lib/http/management-operation.ts';
import { ok } from '#lib/http/responses.ts';
import { managementRoutes } from '#lib/http/routes/management-routes.ts';
import {
  type HsmHealthDeps,
  type HsmHealthReport,
  httpStatusOf,
  makeGetHsmHealth,
  unavailableSummary,
} from '#lib/keys/hsm-health.ts';
import { container } from '#lib/runtime/container.ts';
import { configuredPkcs11Session } from '#lib/runtime/pkcs11.ts';

/**
 * GET /health/hsm (management plane, vaults/read): the HSM's health report
 * (lib/keys/hsm-health.ts). 200 with the report when healthy, degraded or
 * off; 503 with the same report and a Key Vault error when HSM keys cannot be
 * used, so that monitors which read only the status code see it.
 */
export const handler = managementOperation(managementRoutes, 'HsmHealth_Get', async () => {
  const report = await hsmHealth()();
  if (httpStatusOf(report) === 200) return ok(report);
  return {
    status: 503,
    body: { error: { code: 'ServiceUnavailable', message: unavailableSummary(report) }, ...report },
    headers: { 'retry-after': '30' },
  };
});

let made: (() => Promise<HsmHealthReport>) | undefined;

/** The report maker of this container, wired from its configuration on first use. */
function hsmHealth(): () => Promise<HsmHealthReport> {
  made ??= makeGetHsmHealth(healthDeps(container().config));
  return made;
}

function healthDeps(config: Config): HsmHealthDeps {
  const clusterId = config.ARCA_CLOUDHSM_CLUSTER_ID;
  return {
    hsm: config.ARCA_HSM,
    now: () => new Date(),
    ...(config.ARCA_HSM === 'pkcs11' && {
      pkcs11: { tokenLabel: config.ARCA_PKCS11_TOKEN_LABEL as string, probe: () => probeToken(config) },
    }),
    ...(config.ARCA_HSM === 'kms' && { kms: { region: config.AWS_REGION } }),
    ...(config.ARCA_HSM !== 'off' &&
      clusterId && { cloudHsm: { clusterId, describe: () => describeCluster(config, clusterId) } }),
  };
}

/** The token's information, through the process's shared PKCS#11 session (opened here if no key has yet). */
async function probeToken(config: Config) {
  const [session, { probePkcs11Token }] = await Promise.all([
    configuredPkcs11Session(config),
    import('#lib/keys/hsm/pkcs11-health.ts'),
  ]);
  return probePkcs11Token(session);
}

let cloudHsmClient: CloudHSMV2Client | undefined;

async function describeCluster(config: Config, clusterId: string) {
  const [{ CloudHSMV2Client }, { describeCloudHsmCluster }] = await Promise.all([
    import('@aws-sdk/client-cloudhsm-v2'),
    import('#lib/keys/hsm/cloudhsm-health.ts'),
  ]);
  cloudHsmClient ??= new CloudHSMV2Client({ region: config.AWS_REGION, maxAttempts: 2 });
  return describeCloudHsmCluster(cloudHsmClient, clusterId);
}
