import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { handlerFiles, type Route, routes } from '#lib/http/routes.ts';
import { OperationFunction } from './constructs/operation-function.ts';
import { VaultApi } from './constructs/vault-api.ts';
import { VaultDomain } from './constructs/vault-domain.ts';
import { VaultKek } from './constructs/vault-kek.ts';
import { VaultTable } from './constructs/vault-table.ts';

export interface ArcaStackProps extends StackProps {
  /** Bearer tokens: expected `iss` and `aud`, and where the issuer publishes its keys. */
  readonly tokenIssuer: string;
  readonly tokenAudience: string;
  readonly jwksUrl: string;
  /** The 401 challenge: `authorization="{challengeAuthority}/{tenantId}", resource="{challengeResource}"`. */
  readonly tenantId: string;
  readonly challengeAuthority: string;
  readonly challengeResource: string;
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
   * clients cannot follow; the handlers verify tokens in any case.
   * @default false
   */
  readonly edgeJwtAuthorizer?: boolean;
  /** @default the repository root (package.json, package-lock.json, functions/) */
  readonly projectRoot?: string;
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

/** Arca on AWS: the vault table, the key-encryption key, one function per operation, the HTTP API. */
export class ArcaStack extends Stack {
  readonly table: VaultTable;
  readonly kek: VaultKek;
  /** By handler file, as the route table names it. */
  readonly functions: ReadonlyMap<string, OperationFunction>;
  readonly api: VaultApi;
  readonly domain?: VaultDomain;

  constructor(scope: Construct, id: string, props: ArcaStackProps) {
    super(scope, id, props);
    if (props.hostedZoneId && !props.certificateArn) {
      throw new Error('hostedZoneId needs certificateArn: the DNS records point at the custom domain');
    }
    this.table = new VaultTable(this, 'VaultTable');
    this.kek = new VaultKek(this, 'VaultKek');

    const environment: Record<string, string> = {
      ARCA_TABLE_NAME: this.table.table.tableName,
      ARCA_KEYRING: 'kms',
      ARCA_KMS_KEY_ID: this.kek.key.keyArn,
      ARCA_TOKEN_ISSUER: props.tokenIssuer,
      ARCA_TOKEN_AUDIENCE: props.tokenAudience,
      ARCA_JWKS_URL: props.jwksUrl,
      ARCA_TENANT_ID: props.tenantId,
      ARCA_CHALLENGE_AUTHORITY: props.challengeAuthority,
      ARCA_CHALLENGE_RESOURCE: props.challengeResource,
      ARCA_VAULT_DOMAIN: props.vaultDomain,
      ...(props.defaultVault ? { ARCA_DEFAULT_VAULT: props.defaultVault } : {}),
    };

    const functions = new Map<string, OperationFunction>();
    for (const handlerFile of handlerFiles()) {
      const fn = new OperationFunction(this, constructId(handlerFile), {
        handlerFile,
        projectRoot: props.projectRoot ?? repositoryRoot,
        description: functionDescription(routes.filter((r) => r.handler === handlerFile)),
        environment,
      });
      if (isReadOnly(handlerFile)) {
        this.table.grantRead(fn);
        this.kek.grantUnwrap(fn);
      } else {
        this.table.grantReadWrite(fn);
        this.kek.grantWrapAndUnwrap(fn);
      }
      functions.set(handlerFile, fn);
    }
    this.functions = functions;

    this.api = new VaultApi(this, 'VaultApi', {
      routes,
      functions: new Map([...functions].map(([file, fn]) => [file, fn.function])),
      edgeJwt: props.edgeJwtAuthorizer
        ? { issuer: props.tokenIssuer, audience: props.tokenAudience }
        : undefined,
      disableExecuteApiEndpoint: Boolean(props.certificateArn),
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
  }
}
