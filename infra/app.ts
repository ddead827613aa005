import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import { ArcaStack, type ArcaStackProps } from './arca-stack.ts';
import type { HsmMode } from './constructs/key-hsm.ts';

/**
 * The CDK app. Every setting is a context key (`cdk.json` "context" or
 * `npx cdk synth -c arca:vaultDomain=vault.example.org`), so that `npx cdk synth`
 * works with no arguments and no AWS account:
 *
 *   arca:stackName           default 'Arca'
 *   arca:tokenIssuer         the bearer tokens' issuer; none: the stack creates a Cognito user
 *                            pool with a client-credentials app client and uses it (see below)
 *   arca:jwksUrl             required with tokenIssuer: where the issuer publishes its keys
 *   arca:tokenAudience       with tokenIssuer: the `aud` expected, default https://vault.azure.net;
 *                            with Cognito: the resource server identifier, default https://{vaultDomain}
 *   arca:tenantId            the challenge's tenant; default derived from the issuer. Given without
 *                            tokenIssuer it means Entra ID, as before Cognito became the default:
 *                            issuer {challengeAuthority}/{tenantId}/v2.0,
 *                            jwksUrl {challengeAuthority}/{tenantId}/discovery/v2.0/keys
 *   arca:challengeAuthority  default derived from the issuer (https://login.microsoftonline.com for Entra ID)
 *   arca:challengeResource   default the token audience (Cognito: the resource server identifier)
 *   arca:administrators      deployment roles of the management plane: comma-separated object ids;
 *   arca:contributors          administrators default to the Cognito app client when the stack
 *   arca:readers               creates it, so a fresh deployment can create its first vault
 *   arca:vaultCacheTtlMs     default 5000
 *   arca:auditReaders        object ids who may read every vault's audit records
 *   arca:auditHotDays        default 90: records stay queryable in the audit table
 *   arca:auditLogRetentionDays  CloudWatch Logs retention, one of CloudWatch's values (default 365)
 *   arca:auditArchiveRetentionDays  S3 Object Lock (compliance) retention, default 365
 *   arca:auditGlacierAfterDays, arca:auditDeepArchiveAfterDays  archive lifecycle, default 90 and 365
 *   arca:cognitoDomainPrefix default {stack name in lower case}-{account}
 *   arca:vaultDomain         default vault.example.com
 *   arca:defaultVault        optional: the vault the bare domain serves
 *   arca:certificateArn      optional: creates the custom domains *.{vaultDomain} and {vaultDomain}
 *   arca:hostedZoneId        optional, with certificateArn: alias records in that zone
 *   arca:hostedZoneName      default {vaultDomain}
 *   arca:edgeJwtAuthorizer   'true' attaches an API Gateway JWT authorizer to every route
 *   arca:hsm                 where HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) live: 'off' (default:
 *                            refused), 'kms' (AWS KMS asymmetric keys; the key functions get the KMS
 *                            actions they call, on Arca's keys only) or 'pkcs11' (a CloudHSM cluster,
 *                            see below); passed to the functions as ARCA_HSM
 *   arca:cloudHsmClusterId   optional, with kms or pkcs11: the cluster GET /health/hsm reports (its
 *                            function may call cloudhsm:DescribeClusters)
 *   with arca:hsm=pkcs11 (infra/constructs/key-hsm.ts, Pkcs11Settings, says more):
 *   arca:pkcs11LayerArn      required: a Lambda layer (arm64) with the CloudHSM Client SDK 5 PKCS#11
 *                            library and its configuration for the cluster; Lambda has no such library
 *   arca:pkcs11PinSecret     required: a Secrets Manager secret (name or complete ARN) holding the PIN
 *                            ({crypto user}:{password}); the HSM functions read it at cold start
 *   arca:hsmVpcId            required: the cluster's VPC; the functions that use the HSM run in it
 *   arca:hsmSubnetIds        required, comma-separated: subnets that reach the HSMs (with a NAT gateway
 *                            or VPC endpoints for DynamoDB, KMS, Secrets Manager, X-Ray, Logs, CloudHSM
 *                            and the JWKS URL)
 *   arca:hsmSecurityGroupIds required, comma-separated: security groups the cluster admits (TCP 2223-2225)
 *   arca:pkcs11jsBinary      required: pkcs11js's build/Release/pkcs11.node built for Lambda (linux arm64,
 *                            Node.js 22, the version package-lock.json pins); it replaces the one
 *                            built on this machine in those functions' bundles
 *   arca:pkcs11Module        default /opt/cloudhsm/lib/libcloudhsm_pkcs11.so
 *   arca:pkcs11TokenLabel    default hsm1
 *   arca:pkcs11Slot          optional: the slot ID (its token must carry the label); default: the slot
 *                            whose token carries it
 *   arca:pkcs11BackupKey     optional: the label of a trusted AES key in the cluster (CKA_TRUSTED, set
 *                            by a CloudHSM admin); with it HSM keys back up wrapped under it, without
 *                            it BackupKey refuses them
 *
 * Cognito: a client gets a token with
 * `POST {TokenEndpoint} grant_type=client_credentials&scope={TokenScope}` (stack outputs; HTTP
 * Basic auth with the client id and secret). Such tokens have no `aud`, only `client_id`:
 * see ArcaStack.cognitoIssuer.
 */
/** CloudWatch Logs accepts only certain retention periods; RetentionDays lists them. */
function retention(days: number | undefined): RetentionDays | undefined {
  if (days === undefined) return undefined;
  if (!Object.values(RetentionDays).includes(days)) {
    throw new Error(
      `arca:auditLogRetentionDays must be one of CloudWatch Logs' periods (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, …), not ${days}`,
    );
  }
  return days as RetentionDays;
}

export function propsFromContext(node: Node): ArcaStackProps {
  const get = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(`arca:${key}`);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  /** `-c` passes a comma-separated string, cdk.json may hold an array. */
  const list = (key: string): string[] | undefined => {
    const value: unknown = node.tryGetContext(`arca:${key}`);
    if (value === undefined || value === null || value === '') return undefined;
    const items = (Array.isArray(value) ? value.map(String) : String(value).split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    return items.length > 0 ? items : undefined;
  };
  const number = (key: string): number | undefined => {
    const value = get(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed)) throw new Error(`arca:${key} must be an integer, not "${value}"`);
    return parsed;
  };
  const tenantId = get('tenantId');
  const challengeAuthority = get('challengeAuthority');
  const entraTenant =
    tenantId && !get('tokenIssuer')
      ? `${challengeAuthority ?? 'https://login.microsoftonline.com'}/${tenantId}`
      : undefined;
  return {
    tokenIssuer: get('tokenIssuer') ?? (entraTenant && `${entraTenant}/v2.0`),
    jwksUrl: get('jwksUrl') ?? (entraTenant && `${entraTenant}/discovery/v2.0/keys`),
    tokenAudience: get('tokenAudience'),
    tenantId,
    challengeAuthority,
    challengeResource: get('challengeResource'),
    administrators: list('administrators'),
    contributors: list('contributors'),
    readers: list('readers'),
    auditReaders: list('auditReaders'),
    auditHotDays: number('auditHotDays'),
    auditLogRetention: retention(number('auditLogRetentionDays')),
    auditArchiveRetentionDays: number('auditArchiveRetentionDays'),
    auditGlacierAfterDays: number('auditGlacierAfterDays'),
    auditDeepArchiveAfterDays: number('auditDeepArchiveAfterDays'),
    vaultCacheTtlMs: number('vaultCacheTtlMs'),
    cognitoDomainPrefix: get('cognitoDomainPrefix'),
    vaultDomain: get('vaultDomain') ?? 'vault.example.com',
    defaultVault: get('defaultVault'),
    certificateArn: get('certificateArn'),
    hostedZoneId: get('hostedZoneId'),
    hostedZoneName: get('hostedZoneName'),
    // `-c` passes strings, cdk.json may hold a boolean.
    edgeJwtAuthorizer: get('edgeJwtAuthorizer') === 'true',
    keyHsm: {
      mode: (get('hsm') ?? 'off') as HsmMode,
      cloudHsmClusterId: get('cloudHsmClusterId'),
      pkcs11: {
        modulePath: get('pkcs11Module'),
        tokenLabel: get('pkcs11TokenLabel'),
        slotId: get('pkcs11Slot'),
        pinSecret: get('pkcs11PinSecret'),
        layerArn: get('pkcs11LayerArn'),
        vpcId: get('hsmVpcId'),
        subnetIds: list('hsmSubnetIds'),
        securityGroupIds: list('hsmSecurityGroupIds'),
        pkcs11jsBinary: get('pkcs11jsBinary'),
        backupKeyLabel: get('pkcs11BackupKey'),
      },
    },
  };
}

/** Builds the app with cdk-nag's AwsSolutions checks on every synth; tests pass their context here. */
export function buildApp(context: Record<string, unknown> = {}): { app: App; stack: ArcaStack } {
  const app = new App({ context });
  const stack = new ArcaStack(app, String(app.node.tryGetContext('arca:stackName') ?? 'Arca'), {
    ...propsFromContext(app.node),
    description: 'Arca: a key vault speaking the Azure Key Vault data-plane API',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // cdk-nag 3 is a policy-validation plugin (no longer an Aspect): an error fails the synth. It walks
  // the construct tree from the app, so the areas' nested stacks are checked with the root
  // (test/cdk/arca-stack.test.ts proves it with a finding placed in one).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildApp().app.synth();
}
