import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps, Token } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { handlerFiles, type Route, routes } from '#lib/http/routes.ts';
import { AuditPipeline } from './constructs/audit-pipeline.ts';
import { CognitoIssuer, cognitoDomainPrefix } from './constructs/cognito-issuer.ts';
import { hsmUsesOf, KeyHsm, type KeyHsmProps } from './constructs/key-hsm.ts';
import { KeyRotation } from './constructs/key-rotation.ts';
import { areasOf, OperationArea } from './constructs/operation-area.ts';
import { OperationFunction } from './constructs/operation-function.ts';
import { VaultApi } from './constructs/vault-api.ts';
import { VaultDomain } from './constructs/vault-domain.ts';
import { VaultEvents } from './constructs/vault-events.ts';
import { VaultKek } from './constructs/vault-kek.ts';
import { VaultTable } from './constructs/vault-table.ts';

export interface ArcaStackProps extends StackProps {
  /**
   * Bearer tokens: the expected `iss`, and where the issuer publishes its keys
   * (required with tokenIssuer). Without an issuer the stack makes its own: a
   * Cognito user pool with a client-credentials app client (CognitoIssuer).
   */
  readonly tokenIssuer?: string;
  readonly jwksUrl?: string;
  /**
   * The resource clients ask a token for: they request scope `{tokenAudience}/.default`.
   * With tokenIssuer it is the `aud` tokens must carry (@default https://vault.azure.net).
   * With the Cognito issuer it is the resource server identifier (@default https://{vaultDomain}),
   * and tokens carry no `aud` at all: see `tokenSettings`.
   */
  readonly tokenAudience?: string;
  /**
   * The 401 challenge: `authorization="{challengeAuthority}/{tenantId}", resource="{challengeResource}"`.
   * @default authorization: the issuer (an Entra ID issuer without its `/v2.0`), split at its last
   *   path segment, which is the tenant; resource: the token audience (Cognito: the resource server)
   */
  readonly tenantId?: string;
  readonly challengeAuthority?: string;
  readonly challengeResource?: string;
  /**
   * Deployment roles on the management plane (Arca Administrator, Contributor,
   * Reader): object ids of principals or groups (the `oid`, else `sub`, of their tokens).
   * @default administrators: the Cognito app client when the stack creates it
   *   (a fresh deployment can create its first vault); otherwise nobody
   */
  readonly administrators?: readonly string[];
  readonly contributors?: readonly string[];
  readonly readers?: readonly string[];
  /** Principals or groups who may read every vault's audit records (the audit reader role). */
  readonly auditReaders?: readonly string[];
  /**
   * How long a function container trusts its copy of a vault's properties,
   * policies and role assignments (ARCA_VAULT_CACHE_TTL_MS).
   * @default 5000
   */
  readonly vaultCacheTtlMs?: number;
  /**
   * The Cognito prefix domain of the token endpoint; only without tokenIssuer.
   * @default the stack name in lower case, then `-{account}`
   */
  readonly cognitoDomainPrefix?: string;
  /** Vault hosts are `{vault}.{vaultDomain}`. */
  readonly vaultDomain: string;
  /** The vault a request to the bare domain goes to, if any. */
  readonly defaultVault?: string;
  /** With it, the wildcard and bare custom domains are created; without, only the execute-api endpoint. */
  readonly certificateArn?: string;
  /** With it (and certificateArn), alias records for both domains are created in this zone. */
  readonly hostedZoneId?: string;
  /** @default vaultDomain */
  readonly hostedZoneName?: string;
  /**
   * Attach an API Gateway JWT authorizer to every route as well. Off by default:
   * it answers a request without a token itself, with a challenge the Azure SDK
   * clients cannot follow; the handlers verify tokens in any case (and alone
   * know the vault permissions).
   * @default false
   */
  readonly edgeJwtAuthorizer?: boolean;
  /** @default the repository root (package.json, package-lock.json, functions/) */
  readonly projectRoot?: string;
  /** How long audit records stay queryable in the audit table (TTL, ARCA_AUDIT_HOT_DAYS). @default 90 */
  readonly auditHotDays?: number;
  /** How long CloudWatch Logs keeps audit records. @default one year */
  readonly auditLogRetention?: RetentionDays;
  /** Object Lock (compliance mode) retention of archived audit objects. @default 365 */
  readonly auditArchiveRetentionDays?: number;
  /** Archived audit objects move to Glacier Instant Retrieval, then Deep Archive. @default 90 and 365 */
  readonly auditGlacierAfterDays?: number;
  readonly auditDeepArchiveAfterDays?: number;
  /** Where HSM-protected keys live (ARCA_HSM) and the CloudHSM cluster the health route reports. @default off */
  readonly keyHsm?: KeyHsmProps;
}

/** What the handlers (and the edge authorizer) check tokens against, and what the challenge says. */
export interface TokenSettings {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** ARCA_TOKEN_AUDIENCE, and the edge authorizer's audience. */
  readonly audience: string;
  readonly tenantId: string;
  readonly challengeAuthority: string;
  readonly challengeResource: string;
}

const AZURE_KEY_VAULT_RESOURCE = 'https://vault.azure.net';

/**
 * The challenge's `authorization` from an issuer URL: Entra ID's
 * `{authority}/{tenant}/v2.0` gives `{authority}` and `{tenant}`; any other
 * issuer is split at its last path segment (Cognito: the pool id). An issuer
 * without a path keeps the placeholder tenant.
 */
export function challengeFromIssuer(issuer: string): { authority: string; tenantId: string } {
  const fallback = {
    authority: 'https://login.microsoftonline.com',
    tenantId: '00000000-0000-0000-0000-000000000000',
  };
  if (!URL.canParse(issuer)) return fallback;
  const url = new URL(issuer);
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.at(-1) === 'v2.0') segments.pop();
  const tenantId = segments.pop();
  if (!tenantId) return { ...fallback, authority: url.origin };
  return { authority: url.origin + segments.map((s) => `/${s}`).join(''), tenantId };
}

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** A handler file may only read when every route it serves is a GET. */
function isReadOnly(handlerFile: string): boolean {
  return routes.filter((r) => r.handler === handlerFile).every((r) => r.method === 'GET');
}

/** 'functions/secrets/get-secret.ts' becomes 'SecretsGetSecret'. */
function constructId(handlerFile: string): string {
  return handlerFile
    .replace(/^functions\//, '')
    .replace(/\.ts$/, '')
    .split(/[/-]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

function functionDescription(served: readonly Route[]): string {
  const keys = served.map((r) => `${r.method} ${r.path}`).join(', ');
  return `Arca ${served[0]?.operationId ?? ''}: ${keys}`.slice(0, 256);
}

/**
 * Arca on AWS: the vault table, the key-encryption key, one function per
 * operation, the HTTP API. The operations of each area of the route table
 * (functions, routes, integrations, permissions) are in a nested stack of
 * their own (OperationArea); everything else, stateful resources included,
 * is in this stack.
 */
export class ArcaStack extends Stack {
  readonly table: VaultTable;
  readonly kek: VaultKek;
  /** The audit table, its shipper and the sinks (Firehose to S3, CloudWatch Logs, Kinesis). */
  readonly audit: AuditPipeline;
  /** Vault events on EventBridge: the table and audit streams' publishers, and the expiry sweep. */
  readonly events: VaultEvents;
  /** The hourly key rotation sweep (rotation policies). */
  readonly keyRotation: KeyRotation;
  /** The token issuer the stack made, when it was given none. */
  readonly cognito?: CognitoIssuer;
  readonly tokens: TokenSettings;
  /** By handler file, as the route table names it. */
  readonly functions: ReadonlyMap<string, OperationFunction>;
  /** By area id: the nested stack of each area's functions, routes and permissions. */
  readonly areas: ReadonlyMap<string, OperationArea>;
  /** The HSM of HSM-protected keys: what the functions that reach it get. */
  readonly keyHsm: KeyHsm;
  readonly api: VaultApi;
  readonly domain?: VaultDomain;

  constructor(scope: Construct, id: string, props: ArcaStackProps) {
    super(scope, id, props);
    if (props.hostedZoneId && !props.certificateArn) {
      throw new Error('hostedZoneId needs certificateArn: the DNS records point at the custom domain');
    }
    const vaultCacheTtlMs = props.vaultCacheTtlMs ?? 5_000;
    if (!Number.isInteger(vaultCacheTtlMs) || vaultCacheTtlMs < 0) {
      throw new Error(`vaultCacheTtlMs must be an integer of 0 or more, not ${vaultCacheTtlMs}`);
    }
    this.table = new VaultTable(this, 'VaultTable');
    this.kek = new VaultKek(this, 'VaultKek');
    const auditHotDays = props.auditHotDays ?? 90;
    if (!Number.isInteger(auditHotDays) || auditHotDays < 1 || auditHotDays > 3650) {
      throw new Error(`auditHotDays must be an integer 1-3650, not ${auditHotDays}`);
    }
    this.audit = new AuditPipeline(this, 'AuditPipeline', {
      tableKey: this.table.key,
      projectRoot: props.projectRoot ?? repositoryRoot,
      logRetention: props.auditLogRetention,
      archiveRetentionDays: props.auditArchiveRetentionDays,
      glacierInstantRetrievalAfterDays: props.auditGlacierAfterDays,
      deepArchiveAfterDays: props.auditDeepArchiveAfterDays,
    });

    if (props.tokenIssuer) {
      if (props.cognitoDomainPrefix) {
        throw new Error('cognitoDomainPrefix is for the Cognito issuer, which tokenIssuer replaces');
      }
      this.tokens = this.externalIssuer(props, props.tokenIssuer);
    } else {
      if (props.jwksUrl) throw new Error('jwksUrl needs tokenIssuer: the Cognito issuer has its own keys');
      this.cognito = new CognitoIssuer(this, 'TokenIssuer', {
        resource: props.tokenAudience ?? `https://${props.vaultDomain}`,
        domainPrefix: props.cognitoDomainPrefix ?? cognitoDomainPrefix(this.stackName, this.account),
      });
      this.tokens = this.cognitoIssuer(props, this.cognito);
    }

    const administrators =
      props.administrators ?? (this.cognito ? [this.cognito.client.userPoolClientId] : []);
    const roles = {
      ARCA_ADMINISTRATORS: administrators,
      ARCA_CONTRIBUTORS: props.contributors ?? [],
      ARCA_READERS: props.readers ?? [],
      ARCA_AUDIT_READERS: props.auditReaders ?? [],
    };
    const environment: Record<string, string> = {
      ARCA_TABLE_NAME: this.table.table.tableName,
      ARCA_KEYRING: 'kms',
      ARCA_KMS_KEY_ID: this.kek.key.keyArn,
      ARCA_TOKEN_ISSUER: this.tokens.issuer,
      ARCA_TOKEN_AUDIENCE: this.tokens.audience,
      ARCA_JWKS_URL: this.tokens.jwksUrl,
      ARCA_TENANT_ID: this.tokens.tenantId,
      ARCA_CHALLENGE_AUTHORITY: this.tokens.challengeAuthority,
      ARCA_CHALLENGE_RESOURCE: this.tokens.challengeResource,
      ARCA_VAULT_DOMAIN: props.vaultDomain,
      ...(props.defaultVault ? { ARCA_DEFAULT_VAULT: props.defaultVault } : {}),
      ARCA_VAULT_CACHE_TTL_MS: String(vaultCacheTtlMs),
      ARCA_AUDIT_TABLE_NAME: this.audit.table.tableName,
      ARCA_AUDIT_HOT_DAYS: String(auditHotDays),
      ...Object.fromEntries(
        Object.entries(roles)
          .map(([name, ids]) => [name, objectIds(name, ids).join(',')])
          .filter(([, value]) => value),
      ),
    };

    this.keyHsm = new KeyHsm(this, 'KeyHsm', props.keyHsm);
    this.api = new VaultApi(this, 'VaultApi', {
      // The same issuer and audience as the handlers. The authorizer checks `aud`, or
      // `client_id` when a token has no `aud` (Cognito access tokens): the app client id.
      edgeJwt: props.edgeJwtAuthorizer
        ? { issuer: this.tokens.issuer, audience: this.tokens.audience }
        : undefined,
      disableExecuteApiEndpoint: Boolean(props.certificateArn),
    });

    // Each area of the route table in a nested stack of its own: its functions, routes and permissions.
    const built = new Map<string, OperationFunction>();
    const areas = new Map<string, OperationArea>();
    for (const area of areasOf(routes)) {
      const areaStack = new OperationArea(this, area);
      const areaFunctions = new Map<string, OperationFunction>();
      for (const handlerFile of areaStack.handlerFiles()) {
        const hsmUses = hsmUsesOf(handlerFile);
        const fn = new OperationFunction(areaStack, constructId(handlerFile), {
          handlerFile,
          projectRoot: props.projectRoot ?? repositoryRoot,
          description: functionDescription(routes.filter((r) => r.handler === handlerFile)),
          environment: { ...environment, ...this.keyHsm.environment(hsmUses) },
          ...this.keyHsm.functionOptions(hsmUses),
        });
        this.keyHsm.grant(fn, hsmUses);
        if (isReadOnly(handlerFile)) {
          this.table.grantRead(fn);
          this.kek.grantUnwrap(fn);
        } else {
          this.table.grantReadWrite(fn);
          this.kek.grantWrapAndUnwrap(fn);
        }
        // Every request leaves a record, reads included; queries serve the audit route.
        this.audit.grantWriteAndQuery(fn);
        areaFunctions.set(handlerFile, fn);
        built.set(handlerFile, fn);
      }
      this.api.addRoutes(
        areaStack,
        area.routes,
        new Map([...areaFunctions].map(([file, fn]) => [file, fn.function])),
      );
      areas.set(area.id, areaStack);
    }
    this.areas = areas;
    // In route-table order, whatever the areas' order.
    const functions = new Map<string, OperationFunction>();
    for (const handlerFile of handlerFiles()) {
      const fn = built.get(handlerFile);
      if (!fn) throw new Error(`No function for ${handlerFile}`);
      functions.set(handlerFile, fn);
    }
    this.functions = functions;
    this.events = new VaultEvents(this, 'VaultEvents', {
      table: this.table,
      auditTable: this.audit.table,
      vaultDomain: props.vaultDomain,
      projectRoot: props.projectRoot ?? repositoryRoot,
    });
    this.keyRotation = new KeyRotation(this, 'KeyRotation', {
      table: this.table,
      kek: this.kek,
      audit: this.audit,
      keyHsm: this.keyHsm,
      environment,
      projectRoot: props.projectRoot ?? repositoryRoot,
      deadLetterQueue: this.events.failed,
      expirySweep: this.events.sweep,
    });

    if (props.certificateArn) {
      this.domain = new VaultDomain(this, 'VaultDomain', {
        vaultDomain: props.vaultDomain,
        certificateArn: props.certificateArn,
        api: this.api.api,
        stage: this.api.stage,
        hostedZone: props.hostedZoneId
          ? { id: props.hostedZoneId, name: props.hostedZoneName ?? props.vaultDomain }
          : undefined,
      });
      // Where DNS must point when no hosted zone was given (the bare domain needs an alias record).
      new CfnOutput(this, 'WildcardDomainTarget', { value: this.domain.wildcard.regionalDomainName });
      new CfnOutput(this, 'BareDomainTarget', { value: this.domain.apex.regionalDomainName });
    } else {
      new CfnOutput(this, 'ApiEndpoint', { value: this.api.stage.url });
    }
    if (this.cognito) {
      // The client secret is not an output: `aws cognito-idp describe-user-pool-client
      // --user-pool-id {UserPoolId} --client-id {TokenClientId}` shows it.
      new CfnOutput(this, 'TokenEndpoint', { value: this.cognito.tokenEndpoint });
      new CfnOutput(this, 'TokenScope', { value: this.cognito.scope });
      new CfnOutput(this, 'TokenClientId', { value: this.cognito.client.userPoolClientId });
      new CfnOutput(this, 'UserPoolId', { value: this.cognito.userPool.userPoolId });
    }
  }

  /** An issuer of the operator's (Entra ID, any OIDC provider): tokens carry `aud`. */
  private externalIssuer(props: ArcaStackProps, issuer: string): TokenSettings {
    if (!props.jwksUrl) throw new Error('tokenIssuer needs jwksUrl: where the issuer publishes its keys');
    const audience = props.tokenAudience ?? AZURE_KEY_VAULT_RESOURCE;
    const challenge = challengeFromIssuer(issuer);
    return {
      issuer,
      jwksUrl: props.jwksUrl,
      audience,
      tenantId: props.tenantId ?? challenge.tenantId,
      challengeAuthority: props.challengeAuthority ?? challenge.authority,
      challengeResource: props.challengeResource ?? audience,
    };
  }

  /**
   * The Cognito issuer. Its client-credentials access tokens have NO `aud`
   * claim: they name the app client in `client_id` (and `sub`) and carry
   * `scope` `{resource}/.default` and `token_use` `access`. API Gateway's JWT
   * authorizer accepts a token whose `client_id` is one of its audiences when
   * `aud` is absent, so the audience here is the app client id. The handlers'
   * jose check (lib/auth/token-verifier.ts) requires `aud` and refuses these
   * tokens until it does the same: with no `aud`, accept `client_id` equal to
   * ARCA_TOKEN_AUDIENCE (and `token_use` `access`).
   *
   * The challenge names the issuer as its authorization (authority
   * `https://cognito-idp.{region}.amazonaws.com`, tenant the pool id) and the
   * resource server as its resource, so the scope an Azure SDK client asks for,
   * `{resource}/.default`, is the Cognito scope of the app client.
   */
  private cognitoIssuer(props: ArcaStackProps, cognito: CognitoIssuer): TokenSettings {
    return {
      issuer: cognito.issuer,
      jwksUrl: cognito.jwksUrl,
      audience: cognito.client.userPoolClientId,
      tenantId: props.tenantId ?? cognito.userPool.userPoolId,
      challengeAuthority: props.challengeAuthority ?? `https://cognito-idp.${this.region}.${this.urlSuffix}`,
      challengeResource: props.challengeResource ?? cognito.resource,
    };
  }
}

/** Object ids for a comma-separated variable: trimmed, none empty, none holding a comma. */
function objectIds(name: string, ids: readonly string[]): string[] {
  const trimmed = ids.map((id) => (Token.isUnresolved(id) ? id : id.trim())).filter(Boolean);
  for (const id of trimmed) {
    if (!Token.isUnresolved(id) && /[,\s]/.test(id)) throw new Error(`${name}: "${id}" is not an object id`);
  }
  return trimmed;
}
