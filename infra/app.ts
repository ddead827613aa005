import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import { ArcaStack, type ArcaStackProps } from './arca-stack.ts';

/**
 * The CDK app. Every setting is a context key (`cdk.json` "context" or
 * `npx cdk synth -c arca:vaultDomain=vault.example.org`), so that `npx cdk synth`
 * works with no arguments and no AWS account:
 *
 *   arca:stackName           default 'Arca'
 *   arca:tenantId            default 00000000-0000-0000-0000-000000000000 (a placeholder)
 *   arca:challengeAuthority  default https://login.microsoftonline.com
 *   arca:tokenIssuer         default {challengeAuthority}/{tenantId}/v2.0 (Entra ID shape)
 *   arca:jwksUrl             default {challengeAuthority}/{tenantId}/discovery/v2.0/keys
 *   arca:tokenAudience       default https://vault.azure.net
 *   arca:challengeResource   default https://vault.azure.net
 *   arca:vaultDomain         default vault.example.com
 *   arca:defaultVault        optional: the vault the bare domain serves
 *   arca:certificateArn      optional: creates the custom domains *.{vaultDomain} and {vaultDomain}
 *   arca:hostedZoneId        optional, with certificateArn: alias records in that zone
 *   arca:hostedZoneName      default {vaultDomain}
 *   arca:edgeJwtAuthorizer   'true' attaches an API Gateway JWT authorizer to every route
 *
 * Any OIDC issuer works (Cognito: issuer https://cognito-idp.{region}.amazonaws.com/{poolId},
 * jwksUrl {issuer}/.well-known/jwks.json); the defaults only give a template to look at.
 */
export function propsFromContext(node: Node): ArcaStackProps {
  const get = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(`arca:${key}`);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const tenantId = get('tenantId') ?? '00000000-0000-0000-0000-000000000000';
  const challengeAuthority = get('challengeAuthority') ?? 'https://login.microsoftonline.com';
  return {
    tenantId,
    challengeAuthority,
    tokenIssuer: get('tokenIssuer') ?? `${challengeAuthority}/${tenantId}/v2.0`,
    jwksUrl: get('jwksUrl') ?? `${challengeAuthority}/${tenantId}/discovery/v2.0/keys`,
    tokenAudience: get('tokenAudience') ?? 'https://vault.azure.net',
    challengeResource: get('challengeResource') ?? 'https://vault.azure.net',
    vaultDomain: get('vaultDomain') ?? 'vault.example.com',
    defaultVault: get('defaultVault'),
    certificateArn: get('certificateArn'),
    hostedZoneId: get('hostedZoneId'),
    hostedZoneName: get('hostedZoneName'),
    // `-c` passes strings, cdk.json may hold a boolean.
    edgeJwtAuthorizer: get('edgeJwtAuthorizer') === 'true',
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
  // cdk-nag 3 is a policy-validation plugin (no longer an Aspect): an error fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildApp().app.synth();
}
