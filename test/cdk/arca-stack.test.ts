import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, type CfnElement, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig } from '#lib/config.ts';
import { handlerFiles, routes } from '#lib/http/routes.ts';
import { collectionIndex, tableKeys } from '#lib/store/table-schema.ts';
import { buildApp } from '../../infra/app.ts';
import { ArcaStack } from '../../infra/arca-stack.ts';
import { hsmUsesOf } from '../../infra/constructs/key-hsm.ts';
import { AREAS, areasOf } from '../../infra/constructs/operation-area.ts';

/**
 * Bundling is skipped (no esbuild run), which keeps these tests fast; the
 * handler files named by the route table must still exist, because
 * NodejsFunction checks its entry file.
 */
const noBundling = { 'aws:cdk:bundling-stacks': [] };

function synth(context: Record<string, unknown> = {}): { stack: ArcaStack; template: Template } {
  const { stack } = buildApp({ ...noBundling, ...context });
  return { stack, template: templateOf(stack) };
}

/** The nested stacks under a stack, at any depth. */
function nestedStacksOf(stack: Stack): NestedStack[] {
  return stack.node
    .findAll()
    .filter((c): c is NestedStack => NestedStack.isNestedStack(c) && c.nestedStackParent === stack)
    .flatMap((nested) => [nested, ...nestedStacksOf(nested)]);
}

/** Replaces every `{ Ref: parameter }` with the value the parent stack passes for it. */
function substitute(value: unknown, parameters: Readonly<Record<string, unknown>>): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, parameters));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only?.[0] === 'Ref' && typeof only[1] === 'string' && only[1] in parameters) {
    return parameters[only[1]];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, substitute(v, parameters)]));
}

/**
 * The template of a stack with its nested stacks' resources gathered in: the
 * operation functions, their roles, routes, integrations and permissions live
 * in one nested stack per area. A nested template's references to its
 * parameters are replaced by the values its parent passes (the parent's own
 * expressions: `{ Ref: table }`, `{ Fn::GetAtt: [kek, Arn] }` …), so an
 * assertion reads as it would on one flat template. Logical ids are those of
 * each resource's own stack (what `logicalId` gives); none may collide.
 */
/** What lib/config.ts makes of a function's environment, deploy-time values (table name, key ARN, user pool) as placeholders. */
function deployedConfig(variables: Record<string, unknown>) {
  return parseConfig(
    Object.fromEntries(
      Object.entries(variables).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : `https://deployed.example/${k.toLowerCase()}`,
      ]),
    ),
  );
}

function templateOf(stack: Stack): Template {
  const json = Template.fromStack(stack).toJSON();
  const resources: Record<string, { Properties?: Record<string, unknown> }> = { ...json.Resources };
  for (const nested of nestedStacksOf(stack)) {
    const parent = nested.nestedStackParent;
    assert.ok(parent);
    const parentResources = parent === stack ? json.Resources : templateOf(parent).toJSON().Resources;
    const resource = nested.nestedStackResource;
    assert.ok(resource);
    const passed = parentResources[parent.getLogicalId(resource)]?.Properties?.Parameters ?? {};
    const own = Template.fromStack(nested).toJSON();
    for (const name of Object.keys(own.Parameters ?? {}))
      assert.ok(name in passed, `${nested.node.path}: ${name}`);
    for (const [id, resource] of Object.entries(substitute(own.Resources, passed) as typeof resources)) {
      assert.ok(!(id in resources), `${id} is in ${nested.node.path} and elsewhere`);
      resources[id] = resource;
    }
  }
  return Template.fromJSON({ ...json, Resources: resources });
}

const logicalId = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

function refersTo(value: unknown, id: string): boolean {
  return JSON.stringify(value).includes(`"${id}"`);
}

/** The IAM actions a handler's function may perform, optionally only those on one resource. */
function allowedActions(
  stack: ArcaStack,
  template: Template,
  handlerFile: string,
  onResource?: string,
): Set<string> {
  const role = stack.functions.get(handlerFile)?.function.role;
  assert.ok(role, `no function role for ${handlerFile}`);
  const roleId = logicalId(role);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  const actions = new Set<string>();
  for (const policy of Object.values(policies)) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      if (onResource && !refersTo(statement.Resource, onResource)) continue;
      for (const action of [statement.Action].flat()) actions.add(action);
    }
  }
  return actions;
}

/** The operation functions (not the audit shipper, which has settings of its own). */
function operationFunctions(template: Template) {
  return Object.values(template.findResources('AWS::Lambda::Function')).filter(
    (fn) => fn.Properties.Environment.Variables.ARCA_KEYRING !== undefined,
  );
}

/** Every operation function's environment variables (they are the same for all). */
function environments(template: Template): Record<string, unknown>[] {
  return operationFunctions(template).map((fn) => fn.Properties.Environment.Variables);
}

function environment(template: Template): Record<string, unknown> {
  const [first, ...others] = environments(template);
  assert.ok(first, 'no function');
  for (const other of others) assert.deepEqual(other, first);
  return first;
}

/** An external issuer (Entra ID shaped), as `-c arca:tokenIssuer=… -c arca:jwksUrl=…` gives it. */
const entra = {
  'arca:tokenIssuer': 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0',
  'arca:jwksUrl':
    'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys',
};

const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });

const getOnly = (file: string): boolean =>
  routes.filter((r) => r.handler === file).every((r) => r.method === 'GET');

describe('the Arca stack, with default settings', () => {
  const { stack, template } = synth();
  const kek = logicalId(stack.kek.key);
  const mainTable = logicalId(stack.table.table);

  test('has one Lambda function per handler file, on nodejs22.x and arm64, traced, 10 s timeout', () => {
    // Data plane, role assignments and management plane alike: every handler file of the table.
    for (const prefix of ['functions/secrets/', 'functions/access/', 'functions/vaults/']) {
      assert.ok(
        handlerFiles().some((file) => file.startsWith(prefix)),
        prefix,
      );
    }
    assert.deepEqual([...stack.functions.keys()], handlerFiles());
    // Five more: the audit shipper, the two event publishers, the expiry sweep and the key rotation
    // sweep, bundled the same way. The rotation sweep runs the handlers' key code, with their environment.
    template.resourceCountIs('AWS::Lambda::Function', handlerFiles().length + 5);
    assert.equal(operationFunctions(template).length, handlerFiles().length + 1);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    const timeouts = template.toJSON().Resources;
    for (const fn of stack.functions.values()) {
      assert.equal(timeouts[logicalId(fn.function)].Properties.Timeout, 10);
    }
    assert.equal(timeouts[logicalId(stack.keyRotation.sweep.function)].Properties.Timeout, 300);
  });

  test('gives every function an environment that lib/config.ts accepts, with the KMS keyring on the KEK', () => {
    for (const fn of operationFunctions(template)) {
      const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
      assert.equal(variables.ARCA_KEYRING, 'kms');
      assert.deepEqual(variables.ARCA_KMS_KEY_ID, { 'Fn::GetAtt': [kek, 'Arn'] });
      assert.deepEqual(variables.ARCA_TABLE_NAME, { Ref: logicalId(stack.table.table) });
      assert.deepEqual(variables.ARCA_AUDIT_TABLE_NAME, { Ref: logicalId(stack.audit.table) });
      const config = deployedConfig(variables);
      assert.equal(config.ARCA_VAULT_DOMAIN, 'vault.example.com');
      assert.equal(config.ARCA_VAULT_CACHE_TTL_MS, 5_000);
      assert.equal(config.ARCA_ADMINISTRATORS.length, 1);
      assert.deepEqual(config.ARCA_CONTRIBUTORS, []);
      assert.deepEqual(config.ARCA_READERS, []);
      assert.equal(config.ARCA_AUDIT_HOT_DAYS, 90);
    }
  });

  test('creates a Cognito user pool with no users, and one client-credentials app client', () => {
    assert.ok(stack.cognito);
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      DeletionProtection: 'ACTIVE',
    });
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('AWS::Cognito::UserPoolResourceServer', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'https://vault.example.com',
      Scopes: [Match.objectLike({ ScopeName: '.default' })],
    });
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: [{ 'Fn::Join': ['', [ref(stack.cognito.resourceServer), '/.default']] }],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['arca-', { Ref: 'AWS::AccountId' }]] },
    });
    assert.equal(stack.cognito.scope, 'https://vault.example.com/.default');
  });

  test('checks tokens against the Cognito issuer, its keys, and the app client (no aud in its tokens)', () => {
    const cognito = stack.cognito;
    assert.ok(cognito);
    const pool = logicalId(cognito.userPool);
    const env = environment(template);
    const issuer = [
      'https://cognito-idp.',
      { Ref: 'AWS::Region' },
      '.',
      { Ref: 'AWS::URLSuffix' },
      '/',
      { Ref: pool },
    ];
    assert.deepEqual(env.ARCA_TOKEN_ISSUER, { 'Fn::Join': ['', issuer] });
    assert.deepEqual(env.ARCA_JWKS_URL, { 'Fn::Join': ['', [...issuer, '/.well-known/jwks.json']] });
    assert.deepEqual(env.ARCA_TOKEN_AUDIENCE, ref(cognito.client));
    // The challenge: authorization is the issuer, resource the resource server.
    assert.deepEqual(env.ARCA_TENANT_ID, { Ref: pool });
    assert.deepEqual(env.ARCA_CHALLENGE_AUTHORITY, { 'Fn::Join': ['', issuer.slice(0, 4)] });
    assert.equal(env.ARCA_CHALLENGE_RESOURCE, 'https://vault.example.com');
  });

  test('makes the app client an Arca Administrator, so that it can create the first vault', () => {
    assert.ok(stack.cognito);
    const env = environment(template);
    assert.deepEqual(env.ARCA_ADMINISTRATORS, ref(stack.cognito.client));
    assert.equal(env.ARCA_CONTRIBUTORS, undefined);
    assert.equal(env.ARCA_READERS, undefined);
    assert.equal(env.ARCA_VAULT_CACHE_TTL_MS, '5000');
  });

  test('outputs the token endpoint, scope and client id, never the client secret', () => {
    const outputs = template.toJSON().Outputs;
    assert.ok(outputs.TokenEndpoint && outputs.TokenClientId && outputs.UserPoolId);
    assert.equal(outputs.TokenScope.Value, 'https://vault.example.com/.default');
    assert.ok(!JSON.stringify(outputs).includes('ClientSecret'));
  });

  test('has one API route per route-table entry, keyed "METHOD /path"', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    for (const route of routes) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method} ${route.path}`,
      });
    }
  });

  test('sends each route to the function of its handler file', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    for (const route of routes) {
      const [found] = Object.values(
        template.findResources('AWS::ApiGatewayV2::Route', {
          Properties: { RouteKey: `${route.method} ${route.path}` },
        }),
      );
      const integrationId = found?.Properties.Target['Fn::Join'][1][1].Ref;
      const uri = integrations[integrationId]?.Properties.IntegrationUri;
      const fn = stack.functions.get(route.handler);
      assert.ok(fn);
      assert.deepEqual(
        uri,
        { 'Fn::GetAtt': [logicalId(fn.function), 'Arn'] },
        `${route.method} ${route.path}`,
      );
    }
  });

  test('keeps the table on demand, recoverable to a point in time, undeletable, streaming both images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      KeySchema: [
        { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' },
      ],
      // Among others (the expiry index).
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: collectionIndex.indexName,
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...collectionIndex.nonKeyAttributes] },
        }),
      ]),
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('encrypts the table under a customer-managed key of its own, not the KEK', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.table.key), 'Arn'] },
      },
    });
  });

  test('rotates the vault key-encryption key, names it alias/arca/vault-kek and keeps it', () => {
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/arca/vault-kek',
      TargetKeyId: { 'Fn::GetAtt': [kek, 'Arn'] },
    });
    const key = template.toJSON().Resources[kek];
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.equal(key.DeletionPolicy, 'Retain');
    template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('lets a read-only function (get-secret) read items and unwrap data keys, and nothing more', () => {
    const actions = allowedActions(stack, template, 'functions/secrets/get-secret.ts', mainTable);
    assert.ok(actions.has('dynamodb:GetItem') && actions.has('dynamodb:Query'));
    for (const write of [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]) {
      assert.ok(!actions.has(write), `get-secret may ${write}`);
    }
    // Under the KEK; the table key's data-key actions are DynamoDB's encryption at rest (audit writes).
    assert.deepEqual(
      allowedActions(stack, template, 'functions/secrets/get-secret.ts', kek),
      new Set(['kms:Decrypt']),
    );
  });

  test('lets a writing function (set-secret) write items and wrap new data keys under the KEK', () => {
    const actions = allowedActions(stack, template, 'functions/secrets/set-secret.ts', mainTable);
    assert.ok(actions.has('dynamodb:PutItem') && actions.has('dynamodb:UpdateItem'));
    assert.deepEqual(
      allowedActions(stack, template, 'functions/secrets/set-secret.ts', kek),
      new Set(['kms:GenerateDataKey', 'kms:Decrypt']),
    );
  });

  test('lets a function write exactly when one of its routes is not a GET', () => {
    for (const file of handlerFiles()) {
      assert.equal(
        allowedActions(stack, template, file, mainTable).has('dynamodb:PutItem'),
        !getOnly(file),
        file,
      );
      const expected = getOnly(file) ? ['kms:Decrypt'] : ['kms:GenerateDataKey', 'kms:Decrypt'];
      assert.deepEqual(allowedActions(stack, template, file, kek), new Set(expected), file);
    }
  });

  test('gives functions no managed policy: each role writes only its own log group', () => {
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  test('access-logs and throttles the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('\\$context.requestId'),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
  });

  test('attaches no JWT authorizer: the handlers send the Key Vault 401 challenge themselves', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'NONE' });
  });

  test('creates no custom domain and keeps the execute-api endpoint', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
  });
});

describe('the Arca stack, with an issuer of its own (Entra ID)', () => {
  const { stack, template } = synth(entra);

  test('creates no Cognito user pool or client', () => {
    assert.equal(stack.cognito, undefined);
    for (const type of [
      'AWS::Cognito::UserPool',
      'AWS::Cognito::UserPoolClient',
      'AWS::Cognito::UserPoolDomain',
      'AWS::Cognito::UserPoolResourceServer',
    ]) {
      template.resourceCountIs(type, 0);
    }
    assert.equal(template.toJSON().Outputs.TokenEndpoint, undefined);
  });

  test('checks tokens against the given issuer and keys, for the Key Vault audience', () => {
    const env = environment(template);
    assert.equal(env.ARCA_TOKEN_ISSUER, entra['arca:tokenIssuer']);
    assert.equal(env.ARCA_JWKS_URL, entra['arca:jwksUrl']);
    assert.equal(env.ARCA_TOKEN_AUDIENCE, 'https://vault.azure.net');
    // The challenge's authorization is the issuer without /v2.0: the authority and the tenant.
    assert.equal(env.ARCA_CHALLENGE_AUTHORITY, 'https://login.microsoftonline.com');
    assert.equal(env.ARCA_TENANT_ID, '11111111-2222-3333-4444-555555555555');
    assert.equal(env.ARCA_CHALLENGE_RESOURCE, 'https://vault.azure.net');
    const config = parseConfig({ ...env, ARCA_TABLE_NAME: 'arca', ARCA_KMS_KEY_ID: 'arn:kek' } as Record<
      string,
      string
    >);
    assert.deepEqual(config.ARCA_ADMINISTRATORS, []);
  });

  test('gives no one a deployment role unless told', () => {
    const env = environment(template);
    for (const name of ['ARCA_ADMINISTRATORS', 'ARCA_CONTRIBUTORS', 'ARCA_READERS']) {
      assert.equal(env[name], undefined, name);
    }
  });

  test('keeps the Entra ID shorthand: a tenant without an issuer means that tenant', () => {
    const env = environment(synth({ 'arca:tenantId': 'contoso' }).template);
    assert.equal(env.ARCA_TOKEN_ISSUER, 'https://login.microsoftonline.com/contoso/v2.0');
    assert.equal(env.ARCA_JWKS_URL, 'https://login.microsoftonline.com/contoso/discovery/v2.0/keys');
    assert.equal(env.ARCA_TENANT_ID, 'contoso');
  });

  test('refuses an issuer without its keys, and keys without an issuer', () => {
    assert.throws(
      () => buildApp({ ...noBundling, 'arca:tokenIssuer': entra['arca:tokenIssuer'] }),
      /jwksUrl/,
    );
    assert.throws(() => buildApp({ ...noBundling, 'arca:jwksUrl': entra['arca:jwksUrl'] }), /tokenIssuer/);
  });
});

describe('the Arca stack, with deployment roles and a vault cache TTL', () => {
  test('sets ARCA_ADMINISTRATORS, ARCA_CONTRIBUTORS and ARCA_READERS on every function', () => {
    const { template } = synth({
      ...entra,
      'arca:administrators': ' Admin-1, admin-group ',
      'arca:contributors': 'contrib-1',
      // cdk.json may hold an array.
      'arca:readers': ['reader-1', 'reader-2'],
      'arca:vaultCacheTtlMs': '250',
    });
    const all = environments(template);
    assert.equal(all.length, handlerFiles().length + 1); // and the key rotation sweep
    for (const env of all) {
      assert.equal(env.ARCA_ADMINISTRATORS, 'Admin-1,admin-group');
      assert.equal(env.ARCA_CONTRIBUTORS, 'contrib-1');
      assert.equal(env.ARCA_READERS, 'reader-1,reader-2');
      assert.equal(env.ARCA_VAULT_CACHE_TTL_MS, '250');
      const config = parseConfig({ ...env, ARCA_TABLE_NAME: 'arca', ARCA_KMS_KEY_ID: 'arn:kek' } as Record<
        string,
        string
      >);
      assert.deepEqual(config.ARCA_ADMINISTRATORS, ['admin-1', 'admin-group']);
      assert.deepEqual(config.ARCA_READERS, ['reader-1', 'reader-2']);
      assert.equal(config.ARCA_VAULT_CACHE_TTL_MS, 250);
    }
  });

  test('given administrators replace the Cognito app client as administrator', () => {
    const { stack, template } = synth({ 'arca:administrators': 'ops-group' });
    assert.ok(stack.cognito);
    assert.equal(environment(template).ARCA_ADMINISTRATORS, 'ops-group');
  });

  test('refuses a TTL that is not a non-negative integer', () => {
    assert.throws(() => buildApp({ ...noBundling, 'arca:vaultCacheTtlMs': '-1' }), /vaultCacheTtlMs/);
    assert.throws(() => buildApp({ ...noBundling, 'arca:vaultCacheTtlMs': 'soon' }), /vaultCacheTtlMs/);
  });
});

describe('the Arca stack, with edgeJwtAuthorizer on', () => {
  function assertAuthorizer(template: Template, issuer: unknown, audience: unknown): void {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: issuer, Audience: [audience] },
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', {
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: Match.anyValue() },
    });
  }

  test('attaches one JWT authorizer, for the configured issuer and audience, to every route', () => {
    const { template } = synth({
      ...entra,
      'arca:tokenAudience': 'api://arca',
      'arca:edgeJwtAuthorizer': true,
    });
    assertAuthorizer(template, entra['arca:tokenIssuer'], 'api://arca');
    assert.equal(environment(template).ARCA_TOKEN_AUDIENCE, 'api://arca');
  });

  test('with the Cognito issuer: its issuer URL, and the app client id as the audience (client_id)', () => {
    const { stack, template } = synth({ 'arca:edgeJwtAuthorizer': true });
    assert.ok(stack.cognito);
    const env = environment(template);
    assertAuthorizer(template, env.ARCA_TOKEN_ISSUER, ref(stack.cognito.client));
  });
});

describe('the Arca stack, with a certificate and a hosted zone', () => {
  const certificateArn =
    'arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000';
  const { template } = synth({
    'arca:vaultDomain': 'vault.example.org',
    'arca:certificateArn': certificateArn,
    'arca:hostedZoneId': 'Z0000000000000000000',
  });

  test('serves every vault host on the wildcard domain, and the bare domain, from the API', () => {
    for (const name of ['*.vault.example.org', 'vault.example.org']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: name,
        DomainNameConfigurations: [
          Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
        ],
      });
    }
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
  });

  test('points alias records for both names at the custom domains', () => {
    for (const name of ['*.vault.example.org.', 'vault.example.org.']) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: name,
        Type: 'A',
        HostedZoneId: 'Z0000000000000000000',
        AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
      });
    }
  });
});

describe('the Arca stack, with a certificate only', () => {
  test('creates the custom domains but no DNS records', () => {
    const { template } = synth({ 'arca:certificateArn': 'arn:aws:acm:eu-west-1:111122223333:certificate/x' });
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 2);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  test('refuses a hosted zone without a certificate', () => {
    assert.throws(
      () => buildApp({ ...noBundling, 'arca:hostedZoneId': 'Z0000000000000000000' }),
      /certificateArn/,
    );
  });
});

describe('the Arca stack, audit pipeline', () => {
  const { stack, template } = synth();
  const audit = stack.audit;
  const auditTable = logicalId(audit.table);
  const kek = logicalId(stack.kek.key);

  /** The statements of a role's policies that name a resource. */
  function roleActionsOn(roleId: string, resourceId: string): Set<string> {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const actions = new Set<string>();
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (refersTo(statement.Resource, resourceId))
          for (const a of [statement.Action].flat()) actions.add(a);
      }
    }
    return actions;
  }

  test('keeps records in an audit table of their own: TTL expiresAt, stream of new images, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.table.key), 'Arn'] },
        },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('lets every operation function put and query audit records, and do nothing else with them', () => {
    for (const file of handlerFiles()) {
      const actions = allowedActions(stack, template, file, auditTable);
      assert.deepEqual(actions, new Set(['dynamodb:PutItem', 'dynamodb:Query']), file);
    }
    // A read leaves a record too, yet still may not write the vault table.
    const getSecret = 'functions/secrets/get-secret.ts';
    assert.ok(allowedActions(stack, template, getSecret, auditTable).has('dynamodb:PutItem'));
    assert.ok(
      !allowedActions(stack, template, getSecret, logicalId(stack.table.table)).has('dynamodb:PutItem'),
    );
  });

  test('sets the audit table and hot window on every operation function', () => {
    for (const env of environments(template)) {
      assert.deepEqual(env.ARCA_AUDIT_TABLE_NAME, { Ref: auditTable });
      assert.equal(env.ARCA_AUDIT_HOT_DAYS, '90');
    }
  });

  test('feeds the table stream to the shipper: item failures reported, bisected, retried, then sent to a queue', () => {
    // The audit shipper's, and the two event publishers' (table stream, audit stream).
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [auditTable, 'StreamArn'] },
      FunctionName: { Ref: logicalId(audit.shipper.function) },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(audit.failures), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'] }) }] },
    });
  });

  test('keeps the on-failure queue encrypted, SSL-only and retained', () => {
    const queue = logicalId(audit.failures);
    template.hasResource('AWS::SQS::Queue', {
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('tells the shipper its sinks, and lets it write to them and nothing more', () => {
    const shipper = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Arca audit shipping') },
      }),
    );
    assert.equal(shipper.length, 1);
    assert.deepEqual(shipper[0]?.Properties.Environment.Variables, {
      ARCA_AUDIT_FIREHOSE_STREAM: { Ref: logicalId(audit.deliveryStream) },
      ARCA_AUDIT_LOG_GROUP: { Ref: logicalId(audit.logGroup) },
      ARCA_AUDIT_LOG_STREAM: 'audit',
      ARCA_AUDIT_KINESIS_STREAM: { Ref: logicalId(audit.subscriberStream) },
      NODE_OPTIONS: '--enable-source-maps',
    });
    const role = logicalId(audit.shipper.function.role as IConstruct);
    assert.deepEqual(
      roleActionsOn(role, logicalId(audit.deliveryStream)),
      new Set(['firehose:PutRecord', 'firehose:PutRecordBatch']),
    );
    assert.ok(roleActionsOn(role, logicalId(audit.logGroup)).has('logs:PutLogEvents'));
    assert.ok(roleActionsOn(role, logicalId(audit.subscriberStream)).has('kinesis:PutRecords'));
    for (const table of [auditTable, logicalId(stack.table.table)]) {
      const actions = roleActionsOn(role, table);
      assert.ok(!actions.has('dynamodb:PutItem') && !actions.has('dynamodb:GetItem'), table);
    }
    assert.deepEqual(roleActionsOn(role, kek), new Set());
  });

  test('archives to S3 under Object Lock (compliance, 365 days), SSE-KMS, moving to colder storage', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [Match.not(kek), 'Arn'] },
              },
            }),
          ],
        },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Transitions: [
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
                { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 365 },
              ],
            }),
          ],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(audit.accessLogs) } },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      },
      DeletionPolicy: 'Retain',
    });
    for (const bucket of [audit.archive, audit.accessLogs]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  test('puts records through an encrypted Firehose stream into that bucket, gzipped', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: {
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: Match.anyValue(),
      },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [logicalId(audit.archive), 'Arn'] },
        CompressionFormat: 'GZIP',
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
      }),
    });
  });

  test('keeps records in a KMS-encrypted log group for a year, with the stream the shipper writes', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Logs::LogStream', {
      LogGroupName: { Ref: logicalId(audit.logGroup) },
      LogStreamName: 'audit',
    });
  });

  test('offers records to subscribers on an on-demand Kinesis stream encrypted under a key of its own', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.not(kek), 'Arn'] } },
    });
  });

  test('takes the hot window, log retention, Object Lock period and transitions from its props', () => {
    const app = new App({ context: noBundling });
    const custom = new ArcaStack(app, 'Custom', {
      vaultDomain: 'vault.example.org',
      auditHotDays: 30,
      auditLogRetention: RetentionDays.ONE_MONTH,
      auditArchiveRetentionDays: 2555,
      auditGlacierAfterDays: 30,
      auditDeepArchiveAfterDays: 180,
    });
    const t = templateOf(custom);
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, KmsKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: Match.objectLike({
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
      }),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: [
              { StorageClass: 'GLACIER_IR', TransitionInDays: 30 },
              { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 },
            ],
          }),
        ],
      },
    });
    for (const env of environments(t)) assert.equal(env.ARCA_AUDIT_HOT_DAYS, '30');
    assert.throws(
      () =>
        new ArcaStack(new App({ context: noBundling }), 'Bad', { vaultDomain: 'v.example', auditHotDays: 0 }),
      /auditHotDays/,
    );
  });
});

describe('the Arca stack, key rotation', () => {
  const { stack, template } = synth();
  const sweep = stack.keyRotation.sweep;

  /** The actions of a role's policies, optionally only those of statements naming a resource. */
  function roleActions(t: Template, role: IConstruct, onResource?: string): Set<string> {
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(role)] } });
    const actions = new Set<string>();
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (onResource && !refersTo(statement.Resource, onResource)) continue;
        for (const action of [statement.Action].flat()) actions.add(action);
      }
    }
    return actions;
  }
  const roleOf = (fn: { function: { role?: IConstruct | undefined } }) => {
    assert.ok(fn.function.role);
    return fn.function.role;
  };

  test('invokes the rotation sweep every hour, through a role that may invoke it (and park failures) alone', () => {
    const fnArn = { 'Fn::GetAtt': [logicalId(sweep.function), 'Arn'] };
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({
        Arn: fnArn,
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack.events.failed), 'Arn'] } },
      }),
    });
    const role = stack.keyRotation.node.findChild('SchedulerRole') as IConstruct;
    assert.deepEqual(roleActions(template, role), new Set(['lambda:InvokeFunction', 'sqs:SendMessage']));
    assert.deepEqual(
      roleActions(template, role, logicalId(sweep.function)),
      new Set(['lambda:InvokeFunction']),
    );
    assert.deepEqual(
      roleActions(template, role, logicalId(stack.events.failed)),
      new Set(['sqs:SendMessage']),
    );
  });

  test("runs RotateKey's code with RotateKey's permissions: the table, the KEK, audit records", () => {
    const role = roleOf(sweep);
    const rotateKey = stack.functions.get('functions/keys/rotate-key.ts');
    assert.ok(rotateKey);
    for (const resource of [stack.table.table, stack.kek.key, stack.audit.table]) {
      assert.deepEqual(
        roleActions(template, role, logicalId(resource)),
        roleActions(template, roleOf(rotateKey), logicalId(resource)),
        logicalId(resource),
      );
    }
    assert.ok(roleActions(template, role, logicalId(stack.table.table)).has('dynamodb:PutItem'));
    assert.deepEqual(
      roleActions(template, role, logicalId(stack.kek.key)),
      new Set(['kms:GenerateDataKey', 'kms:Decrypt']),
    );
    // The same environment as the operation functions: lib/config.ts accepts it.
    const env = template.toJSON().Resources[logicalId(sweep.function)].Properties.Environment.Variables;
    assert.deepEqual(env, environment(template));
  });

  test('makes HSM keys as RotateKey does when HSM keys live in KMS', () => {
    const kms = synth({ 'arca:hsm': 'kms' });
    const role = roleOf(kms.stack.keyRotation.sweep);
    const rotateKey = kms.stack.functions.get('functions/keys/rotate-key.ts');
    assert.ok(rotateKey);
    const kmsActions = (r: IConstruct) =>
      new Set([...roleActions(kms.template, r)].filter((a) => a.startsWith('kms:')));
    assert.ok(kmsActions(role).has('kms:CreateKey'));
    assert.deepEqual(kmsActions(role), kmsActions(roleOf(rotateKey)));
    const env =
      kms.template.toJSON().Resources[logicalId(kms.stack.keyRotation.sweep.function)].Properties.Environment
        .Variables;
    assert.equal(env.ARCA_HSM, 'kms');
    // Without an HSM it gets no KMS action beyond the KEK's.
    assert.ok(!roleActions(template, roleOf(sweep)).has('kms:CreateKey'));
  });

  test("lets the expiry sweep read rotation policies' key and policy attributes, and nothing else", () => {
    const role = roleOf(stack.events.sweep);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(role)] } });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const reads = statements.filter((st) => [st.Action].flat().includes('dynamodb:BatchGetItem'));
    const onKeys = reads.find((st) => JSON.stringify(st.Condition).includes('*/keys/*'));
    assert.ok(onKeys, 'no BatchGetItem of rotation policies');
    assert.deepEqual(onKeys.Condition, {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*/keys/*'] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'policy'] },
      StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
    });
    assert.deepEqual([onKeys.Action].flat(), ['dynamodb:BatchGetItem']);
    // GetItem and Query of key items stay out of its reach.
    for (const st of statements) {
      if (!refersTo(st.Resource, logicalId(stack.table.table))) continue;
      for (const action of [st.Action].flat()) assert.ok(action !== 'dynamodb:GetItem', action);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  const configurations: Record<string, Record<string, unknown>> = {
    'defaults (Cognito issuer)': {},
    // `-c arca:edgeJwtAuthorizer=true` arrives as a string.
    'edge JWT authorizer, Cognito issuer': { 'arca:edgeJwtAuthorizer': 'true' },
    'external issuer': entra,
    'edge JWT authorizer, external issuer': { ...entra, 'arca:edgeJwtAuthorizer': 'true' },
    'deployment roles': { 'arca:administrators': 'a,b', 'arca:readers': 'c' },
    'custom domain': { 'arca:certificateArn': 'arn:aws:acm:eu-west-1:111122223333:certificate/x' },
  };
  for (const [name, context] of Object.entries(configurations)) {
    test(`finds no unacknowledged error in the stack (${name})`, () => {
      const { stack } = buildApp({ ...noBundling, ...context });
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      const errors = report.violations
        .filter((v) => v.severity === 'error')
        .map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      assert.deepEqual(errors, []);
    });
  }

  test('runs on every synth of the app: an unrotated key fails it', () => {
    // In-memory mode: the failure carries the report instead of printing it.
    const { app, stack } = buildApp({ ...noBundling, '@aws-cdk/core:appMode': 'inmemory' });
    new Key(stack, 'Unrotated');
    assert.throws(() => app.synth(), /AwsSolutions-KMS5/);
  });

  test('checks the nested stacks too: an unrotated key in an area stack fails the synth, and the report names it', () => {
    const inMemory = { ...noBundling, '@aws-cdk/core:appMode': 'inmemory' };
    const { app, stack } = buildApp(inMemory);
    const keys = stack.areas.get('KeyOperations');
    assert.ok(keys && NestedStack.isNestedStack(keys));
    const key = new Key(keys, 'Unrotated');
    const path = `${stack.stackName}/KeyOperations/Unrotated/Resource`;
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    const kms5 = report.violations.find((v) => v.ruleName === 'AwsSolutions-KMS5');
    assert.deepEqual(
      kms5?.violatingResources.map((r) => r.constructPath),
      [path],
    );
    assert.throws(
      () => app.synth(),
      (error: Error) => /AwsSolutions-KMS5/.test(error.message) && error.message.includes(path),
    );
    // An acknowledgement made inside the nested stack applies there.
    const acknowledged = buildApp(inMemory);
    const inArea = new Key(acknowledged.stack.areas.get('KeyOperations') as NestedStack, 'Unrotated');
    Validations.of(inArea).acknowledge({ id: 'AwsSolutions-KMS5', reason: 'test' });
    assert.doesNotThrow(() => acknowledged.app.synth());
    assert.ok(key);
  });

  for (const [name, context] of Object.entries({
    defaults: {},
    'arca:hsm=kms, edge JWT authorizer, custom domain': {
      'arca:hsm': 'kms',
      'arca:edgeJwtAuthorizer': 'true',
      'arca:certificateArn': 'arn:aws:acm:eu-west-1:111122223333:certificate/x',
    },
  })) {
    test(`passes a full synth, nested stacks included, with their acknowledgements (${name})`, () => {
      // After synthesis a nested stack sees the root's values as its parameters; the findings
      // on them (the table's index wildcard) must still meet their acknowledgements.
      const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
      for (const env of [{}, { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-west-1' }]) {
        delete process.env.CDK_DEFAULT_ACCOUNT;
        delete process.env.CDK_DEFAULT_REGION;
        Object.assign(process.env, env);
        try {
          const { app, stack } = buildApp({ ...noBundling, ...context, '@aws-cdk/core:appMode': 'inmemory' });
          assert.ok(stack.areas.size > 0);
          assert.doesNotThrow(() => app.synth(), JSON.stringify(env));
        } finally {
          delete process.env.CDK_DEFAULT_ACCOUNT;
          delete process.env.CDK_DEFAULT_REGION;
          if (saved.account !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved.account;
          if (saved.region !== undefined) process.env.CDK_DEFAULT_REGION = saved.region;
        }
      }
    });
  }
});

describe('the Arca stack, split by area into nested stacks', () => {
  /** Resources, parameters and outputs of the root and of each nested stack. */
  function sizes(stack: ArcaStack): Map<string, { resources: number; parameters: number; outputs: number }> {
    const result = new Map<string, { resources: number; parameters: number; outputs: number }>();
    for (const s of [stack, ...nestedStacksOf(stack)]) {
      const json = Template.fromStack(s).toJSON();
      result.set(s.node.path, {
        resources: Object.keys(json.Resources ?? {}).length,
        parameters: Object.keys(json.Parameters ?? {}).length,
        outputs: Object.keys(json.Outputs ?? {}).length,
      });
    }
    return result;
  }

  const configurations: Record<string, Record<string, unknown>> = {
    defaults: {},
    'arca:hsm=kms': { 'arca:hsm': 'kms', 'arca:cloudHsmClusterId': 'cluster-abcdefghijk' },
    'arca:hsm=pkcs11': {
      'arca:hsm': 'pkcs11',
      'arca:cloudHsmClusterId': 'cluster-abcdefghijk',
      'arca:pkcs11LayerArn': 'arn:aws:lambda:eu-west-1:111122223333:layer:cloudhsm-pkcs11:3',
      'arca:pkcs11PinSecret': 'arca/hsm-pin',
      'arca:hsmVpcId': 'vpc-0123456789abcdef0',
      'arca:hsmSubnetIds': 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      'arca:hsmSecurityGroupIds': 'sg-0123456789abcdef0',
      'arca:pkcs11jsBinary': new URL('../../node_modules/pkcs11js/build/Release/pkcs11.node', import.meta.url)
        .pathname,
    },
    'edge JWT authorizer, custom domain and hosted zone, deployment roles': {
      ...entra,
      'arca:edgeJwtAuthorizer': 'true',
      'arca:certificateArn': 'arn:aws:acm:eu-west-1:111122223333:certificate/x',
      'arca:hostedZoneId': 'Z0000000000000000000',
      'arca:administrators': 'a,b',
    },
  };

  for (const [name, context] of Object.entries(configurations)) {
    test(`keeps every stack under 400 resources, and the root stack with room to spare (${name})`, () => {
      const { stack } = synth(context);
      const all = sizes(stack);
      assert.equal(all.size, 1 + stack.areas.size);
      for (const [path, size] of all) {
        // CloudFormation's limits: 500 resources, 200 parameters, 200 outputs per template.
        assert.ok(size.resources < 400, `${path}: ${size.resources} resources`);
        assert.ok(size.parameters < 100, `${path}: ${size.parameters} parameters`);
        assert.ok(size.outputs < 100, `${path}: ${size.outputs} outputs`);
      }
      const root = all.get(stack.node.path);
      assert.ok(root && root.resources < 150, `root: ${root?.resources} resources`);
      // The root does not grow with the route table: no operation's function, route or permission is in it.
      const rootTemplate = Template.fromStack(stack);
      rootTemplate.resourceCountIs('AWS::ApiGatewayV2::Route', 0);
      rootTemplate.resourceCountIs('AWS::ApiGatewayV2::Integration', 0);
      rootTemplate.resourceCountIs('AWS::CloudFormation::Stack', stack.areas.size);
      for (const fn of stack.functions.values()) assert.notEqual(Stack.of(fn), stack, fn.node.path);
    });
  }

  test('puts each area of the route table in a nested stack of its own: its functions, routes and permissions', () => {
    const { stack } = synth();
    assert.deepEqual(
      [...stack.areas.keys()],
      ['SecretOperations', 'KeyOperations', 'AccessOperations', 'ManagementOperations'],
    );
    const covered = new Set<string>();
    for (const area of stack.areas.values()) {
      assert.ok(NestedStack.isNestedStack(area));
      assert.equal(area.nestedStackParent, stack);
      const t = Template.fromStack(area);
      const keys = area.area.routes.map((r) => `${r.method} ${r.path}`);
      t.resourceCountIs('AWS::ApiGatewayV2::Route', keys.length);
      for (const key of keys) t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key });
      // One permission per route, for API Gateway, limited to the route's path.
      t.resourceCountIs('AWS::Lambda::Permission', keys.length);
      for (const route of area.area.routes) {
        t.hasResourceProperties('AWS::Lambda::Permission', {
          Principal: 'apigateway.amazonaws.com',
          SourceArn: { 'Fn::Join': ['', Match.arrayWith([`/*/*${route.path}`])] },
        });
      }
      const files = area.handlerFiles();
      t.resourceCountIs('AWS::Lambda::Function', files.length);
      t.resourceCountIs('AWS::IAM::Role', files.length);
      t.resourceCountIs('AWS::Logs::LogGroup', files.length);
      for (const file of files) {
        assert.equal(Stack.of(stack.functions.get(file) as IConstruct), area, file);
        covered.add(file);
      }
    }
    assert.deepEqual([...covered].sort(), handlerFiles().sort());
  });

  test('keeps the stateful resources in the root stack, under the logical ids they had before the split', () => {
    const { stack } = synth();
    const root = Template.fromStack(stack).toJSON().Resources;
    const ids: Record<string, string> = {
      VaultTable9A5E0CD9: 'AWS::DynamoDB::Table',
      VaultTableKey9B023CA6: 'AWS::KMS::Key',
      VaultKekKey8125096E: 'AWS::KMS::Key',
      AuditPipelineTableDD0DBA67: 'AWS::DynamoDB::Table',
      AuditPipelineArchiveKey07E853A4: 'AWS::KMS::Key',
      AuditPipelineAccessLogs9396AA18: 'AWS::S3::Bucket',
      AuditPipelineArchive839EF4CB: 'AWS::S3::Bucket',
      AuditPipelineFirehoseLogGroup0C5DA44C: 'AWS::Logs::LogGroup',
      AuditPipelineFirehose7101E552: 'AWS::KinesisFirehose::DeliveryStream',
      AuditPipelineLogsKey58F7D5D2: 'AWS::KMS::Key',
      AuditPipelineRecords39134912: 'AWS::Logs::LogGroup',
      AuditPipelineSubscribersKey9E7113FB: 'AWS::KMS::Key',
      AuditPipelineSubscribersA7D42BA9: 'AWS::Kinesis::Stream',
      AuditPipelineShipFailures8A953C3A: 'AWS::SQS::Queue',
      TokenIssuerUserPoolCA094C6A: 'AWS::Cognito::UserPool',
      VaultEventsBusFE85AA85: 'AWS::Events::EventBus',
      VaultApiAccessLogsB26E0842: 'AWS::Logs::LogGroup',
    };
    for (const [id, type] of Object.entries(ids)) assert.equal(root[id]?.Type, type, id);
    assert.equal(logicalId(stack.table.table), 'VaultTable9A5E0CD9');
    assert.equal(logicalId(stack.kek.key), 'VaultKekKey8125096E');
    assert.equal(logicalId(stack.audit.table), 'AuditPipelineTableDD0DBA67');
    // The nested stacks hold no data: their only retained resources are the functions' own log groups.
    for (const area of stack.areas.values()) {
      const resources = Object.values(Template.fromStack(area).toJSON().Resources) as {
        Type: string;
        DeletionPolicy?: string;
      }[];
      for (const type of new Set(Object.values(ids))) {
        if (type !== 'AWS::Logs::LogGroup') assert.ok(!resources.some((r) => r.Type === type), type);
      }
      const retained = resources.filter((r) => r.DeletionPolicy === 'Retain');
      assert.deepEqual(new Set(retained.map((r) => r.Type)), new Set(['AWS::Logs::LogGroup']));
      assert.equal(retained.length, area.handlerFiles().length);
    }
  });

  test('refuses a route table with a route in no area, or in two', () => {
    const [first] = routes;
    assert.ok(first);
    const stray = { ...first, path: '/certificates' };
    assert.throws(() => areasOf([...routes, stray]), /no area of infra/);
    assert.throws(
      () => areasOf(routes, [...AREAS, { id: 'Again', description: 'again', routes: [first] }]),
      /in two areas/,
    );
  });
});

describe('the Arca stack, HSM keys (arca:hsm) and the HSM health route', () => {
  const HEALTH = 'functions/health/get-hsm-health.ts';
  const CLUSTER = 'cluster-abcdefghijk';
  /** Handlers that reach the HSM (infra/constructs/key-hsm.ts), and some that do not. */
  const hsmUsers = [
    'functions/keys/create-key.ts',
    'functions/keys/rotate-key.ts',
    'functions/keys/sign.ts',
    'functions/keys/verify.ts',
    'functions/keys/encrypt.ts',
    'functions/keys/wrap-key.ts',
    'functions/keys/decrypt.ts',
    'functions/keys/unwrap-key.ts',
    'functions/keys/purge-deleted-key.ts',
    'functions/keys/backup-key.ts',
    'functions/keys/restore-key.ts',
  ];
  const others = [
    'functions/keys/get-key.ts',
    'functions/keys/list-keys.ts',
    'functions/secrets/get-secret.ts',
  ];
  const pkcs11 = {
    'arca:hsm': 'pkcs11',
    'arca:cloudHsmClusterId': CLUSTER,
    'arca:pkcs11LayerArn': 'arn:aws:lambda:eu-west-1:111122223333:layer:cloudhsm-pkcs11:3',
    'arca:pkcs11PinSecret': 'arca/hsm-pin',
    'arca:hsmVpcId': 'vpc-0123456789abcdef0',
    'arca:hsmSubnetIds': 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
    'arca:hsmSecurityGroupIds': 'sg-0123456789abcdef0',
    // Any file will do here (bundling is skipped); on a real synth, pkcs11.node built for Lambda.
    'arca:pkcs11jsBinary': new URL('../../node_modules/pkcs11js/build/Release/pkcs11.node', import.meta.url)
      .pathname,
  };

  type Statement = {
    Action: string | string[];
    Resource: unknown;
    Condition?: Record<string, Record<string, unknown>>;
  };
  function statementsOf(stack: ArcaStack, template: Template, handlerFile: string): Statement[] {
    const role = stack.functions.get(handlerFile)?.function.role;
    assert.ok(role, handlerFile);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(role)] } });
    return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
  }
  const withAction = (statements: Statement[], action: string) =>
    statements.filter((s) => [s.Action].flat().includes(action));
  /** KMS statements not on the stack's own keys (the KEK, the table key): the HSM key grants. */
  function hsmKeyStatements(stack: ArcaStack, template: Template, handlerFile: string): Statement[] {
    const own = [stack.kek.key, stack.table.key, stack.audit.table].map(logicalId);
    return statementsOf(stack, template, handlerFile).filter(
      (s) =>
        [s.Action].flat().some((a) => a.startsWith('kms:')) && !own.some((id) => refersTo(s.Resource, id)),
    );
  }
  function variables(stack: ArcaStack, template: Template, handlerFile: string): Record<string, unknown> {
    const fn = stack.functions.get(handlerFile);
    assert.ok(fn, handlerFile);
    return template.toJSON().Resources[logicalId(fn.function)].Properties.Environment.Variables;
  }
  const fnProperties = (stack: ArcaStack, template: Template, handlerFile: string) => {
    const fn = stack.functions.get(handlerFile);
    assert.ok(fn, handlerFile);
    return template.toJSON().Resources[logicalId(fn.function)].Properties;
  };

  test('by default (off): no function gets ARCA_HSM, an HSM key grant, DescribeClusters, a VPC or a layer', () => {
    const { stack, template } = synth();
    assert.equal(stack.keyHsm.mode, 'off');
    for (const file of handlerFiles()) {
      const env = variables(stack, template, file);
      assert.equal(env.ARCA_HSM, undefined, file);
      assert.equal(env.ARCA_PKCS11_PIN, undefined, file);
      assert.deepEqual(hsmKeyStatements(stack, template, file), [], file);
      assert.deepEqual(
        withAction(statementsOf(stack, template, file), 'cloudhsm:DescribeClusters'),
        [],
        file,
      );
      const props = fnProperties(stack, template, file);
      assert.equal(props.VpcConfig, undefined, file);
      assert.equal(props.Layers, undefined, file);
    }
  });

  describe('with arca:hsm=kms and a CloudHSM cluster for the health route', () => {
    const { stack, template } = synth({ 'arca:hsm': 'kms', 'arca:cloudHsmClusterId': CLUSTER });
    const keyArns = (s: Statement) => JSON.stringify(s.Resource).includes(':key/*');
    const taggedByArca = (s: Statement) => s.Condition?.Null?.['aws:ResourceTag/arca:vault'] === 'false';

    test('passes ARCA_HSM=kms to the functions that reach the HSM, and only to them', () => {
      for (const file of [...hsmUsers, HEALTH])
        assert.equal(variables(stack, template, file).ARCA_HSM, 'kms', file);
      for (const file of others) assert.equal(variables(stack, template, file).ARCA_HSM, undefined, file);
      const config = deployedConfig(variables(stack, template, 'functions/keys/create-key.ts'));
      assert.equal(config.ARCA_HSM, 'kms');
    });

    test('lets create-key and rotate-key create asymmetric keys of Arca’s specs only, tagged arca:vault', () => {
      for (const file of ['functions/keys/create-key.ts', 'functions/keys/rotate-key.ts']) {
        const statements = hsmKeyStatements(stack, template, file);
        const [create, ...more] = withAction(statements, 'kms:CreateKey');
        assert.ok(create && more.length === 0, file);
        assert.deepEqual([create.Action].flat(), ['kms:CreateKey']);
        assert.equal(create.Resource, '*');
        const conditions = create.Condition ?? {};
        assert.deepEqual(conditions.StringEquals?.['kms:KeyUsage'], ['SIGN_VERIFY', 'ENCRYPT_DECRYPT']);
        assert.equal(conditions.StringEquals?.['kms:KeyOrigin'], 'AWS_KMS');
        const specs = conditions.StringEquals?.['kms:KeySpec'] as string[];
        assert.ok(specs.includes('RSA_2048') && specs.includes('ECC_NIST_P256'));
        assert.ok(!specs.includes('SYMMETRIC_DEFAULT') && !specs.some((s) => s.startsWith('HMAC')));
        assert.equal(conditions.Null?.['aws:RequestTag/arca:vault'], 'false');
        assert.deepEqual(conditions['ForAllValues:StringEquals']?.['aws:TagKeys'], [
          'arca:vault',
          'arca:name',
          'arca:version',
        ]);
        const [tag] = withAction(statements, 'kms:TagResource');
        assert.ok(tag && keyArns(tag));
        assert.equal(tag.Condition?.Null?.['aws:RequestTag/arca:vault'], 'false');
        const actions = new Set(statements.flatMap((s) => [s.Action].flat()));
        assert.deepEqual(
          actions,
          new Set([
            'kms:CreateKey',
            'kms:TagResource',
            'kms:GetPublicKey',
            'kms:DescribeKey',
            'kms:ScheduleKeyDeletion',
          ]),
        );
      }
    });

    test('lets sign, verify, decrypt, unwrap and purge use Arca’s keys only (tagged arca:vault), one action each', () => {
      const expected: Record<string, string[]> = {
        'functions/keys/sign.ts': ['kms:Sign'],
        'functions/keys/verify.ts': ['kms:Verify'],
        'functions/keys/decrypt.ts': ['kms:Decrypt'],
        'functions/keys/unwrap-key.ts': ['kms:Decrypt'],
        'functions/keys/purge-deleted-key.ts': ['kms:ScheduleKeyDeletion', 'kms:DescribeKey'],
        // A purged version's KMS key revived within its waiting period (re-scheduled should the restore fail).
        'functions/keys/restore-key.ts': [
          'kms:DescribeKey',
          'kms:CancelKeyDeletion',
          'kms:EnableKey',
          'kms:ScheduleKeyDeletion',
        ],
      };
      for (const [file, actions] of Object.entries(expected)) {
        const statements = hsmKeyStatements(stack, template, file);
        assert.deepEqual(new Set(statements.flatMap((s) => [s.Action].flat())), new Set(actions), file);
        for (const s of statements) {
          assert.ok(keyArns(s), file);
          assert.ok(taggedByArca(s), `${file}: not limited to keys tagged arca:vault`);
          assert.equal(s.Condition?.StringEquals?.['kms:KeyOrigin'], 'AWS_KMS', file);
        }
      }
      const [sign] = hsmKeyStatements(stack, template, 'functions/keys/sign.ts');
      assert.equal(sign?.Condition?.StringEquals?.['kms:KeyUsage'], 'SIGN_VERIFY');
      assert.equal(sign?.Condition?.StringEquals?.['kms:MessageType'], 'DIGEST');
      const [decrypt] = hsmKeyStatements(stack, template, 'functions/keys/decrypt.ts');
      assert.equal(decrypt?.Condition?.StringEquals?.['kms:KeyUsage'], 'ENCRYPT_DECRYPT');
      // encrypt and wrapKey use the public key in the function; a backup names the KMS key without
      // calling KMS; reads never reach KMS keys.
      for (const file of [
        'functions/keys/encrypt.ts',
        'functions/keys/wrap-key.ts',
        'functions/keys/backup-key.ts',
        HEALTH,
        ...others,
      ]) {
        assert.deepEqual(hsmKeyStatements(stack, template, file), [], file);
      }
    });

    test('grants no KMS action on every key without a condition', () => {
      for (const file of handlerFiles()) {
        for (const s of hsmKeyStatements(stack, template, file)) {
          assert.ok(
            s.Condition && Object.keys(s.Condition).length > 0,
            `${file}: ${JSON.stringify(s.Action)}`,
          );
        }
      }
    });

    test('gives the health function cloudhsm:DescribeClusters and the cluster id, and no one else', () => {
      const [describe, ...more] = withAction(
        statementsOf(stack, template, HEALTH),
        'cloudhsm:DescribeClusters',
      );
      assert.ok(describe && more.length === 0);
      assert.deepEqual([describe.Action].flat(), ['cloudhsm:DescribeClusters']);
      assert.equal(describe.Resource, '*'); // the action supports no resource-level permissions
      assert.equal(variables(stack, template, HEALTH).ARCA_CLOUDHSM_CLUSTER_ID, CLUSTER);
      for (const file of handlerFiles().filter((f) => f !== HEALTH)) {
        assert.deepEqual(
          withAction(statementsOf(stack, template, file), 'cloudhsm:DescribeClusters'),
          [],
          file,
        );
        assert.equal(variables(stack, template, file).ARCA_CLOUDHSM_CLUSTER_ID, undefined, file);
      }
    });
  });

  describe('with arca:hsm=pkcs11 (CloudHSM through its PKCS#11 library)', () => {
    const { stack, template } = synth(pkcs11);

    test('runs the HSM functions with the library layer, in the cluster’s subnets and security groups', () => {
      for (const file of [...hsmUsers, HEALTH]) {
        const props = fnProperties(stack, template, file);
        assert.deepEqual(props.Layers, [pkcs11['arca:pkcs11LayerArn']], file);
        assert.deepEqual(props.VpcConfig, {
          SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
          SecurityGroupIds: ['sg-0123456789abcdef0'],
        });
        const env = variables(stack, template, file);
        assert.equal(env.ARCA_HSM, 'pkcs11');
        assert.equal(env.ARCA_PKCS11_MODULE, '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so');
        assert.equal(env.ARCA_PKCS11_TOKEN_LABEL, 'hsm1');
        // Their environment names the PIN's secret; it holds no secret.
        assert.equal(env.ARCA_PKCS11_PIN_SECRET, 'arca/hsm-pin');
        assert.equal(props.KmsKeyArn, undefined, file);
      }
      for (const file of others) {
        const props = fnProperties(stack, template, file);
        assert.equal(props.VpcConfig, undefined, file);
        assert.equal(props.Layers, undefined, file);
        assert.equal(variables(stack, template, file).ARCA_PKCS11_PIN_SECRET, undefined, file);
      }
    });

    test('puts no PIN anywhere: the functions that open sessions may read its secret, and only they', () => {
      const text = JSON.stringify(template.toJSON());
      assert.ok(!text.includes('ARCA_PKCS11_PIN_FILE'));
      assert.ok(!text.includes('"ARCA_PKCS11_PIN"'));
      assert.ok(!text.includes('resolve:secretsmanager'));
      const pinSecretArn = {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':secret:arca/hsm-pin-??????',
          ],
        ],
      };
      for (const file of handlerFiles()) {
        const statements = statementsOf(stack, template, file).filter((s) =>
          [s.Action].flat().some((a) => a.startsWith('secretsmanager:') || a.startsWith('ssm:')),
        );
        if (hsmUsesOf(file).length > 0) {
          assert.deepEqual(
            statements.map((s) => ({ Action: s.Action, Resource: s.Resource })),
            [{ Action: 'secretsmanager:GetSecretValue', Resource: pinSecretArn }],
            file,
          );
        } else {
          assert.deepEqual(statements, [], file);
        }
      }
      // lib/config.ts accepts the environment as deployed.
      const config = deployedConfig(variables(stack, template, 'functions/keys/sign.ts'));
      assert.equal(config.ARCA_HSM, 'pkcs11');
    });

    test('attaches them to the VPC without a managed policy: interfaces in the given subnets only', () => {
      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
      const [create] = withAction(
        statementsOf(stack, template, 'functions/keys/sign.ts'),
        'ec2:CreateNetworkInterface',
      );
      const resources = JSON.stringify(create?.Resource);
      for (const id of [
        'subnet/subnet-0123456789abcdef0',
        'security-group/sg-0123456789abcdef0',
        'network-interface/*',
      ]) {
        assert.ok(resources.includes(id), id);
      }
      assert.deepEqual(
        withAction(statementsOf(stack, template, 'functions/keys/get-key.ts'), 'ec2:CreateNetworkInterface'),
        [],
      );
    });

    test('gives no KMS right on HSM keys (they live in CloudHSM), and DescribeClusters to the health function', () => {
      for (const file of hsmUsers) assert.deepEqual(hsmKeyStatements(stack, template, file), [], file);
      assert.equal(withAction(statementsOf(stack, template, HEALTH), 'cloudhsm:DescribeClusters').length, 1);
      assert.equal(variables(stack, template, HEALTH).ARCA_CLOUDHSM_CLUSTER_ID, CLUSTER);
    });

    test('refuses to synthesise without the layer, the PIN secret, the VPC or the native binary, saying which', () => {
      const without = (key: string) =>
        Object.fromEntries(Object.entries(pkcs11).filter(([k]) => k !== key)) as Record<string, unknown>;
      for (const key of [
        'arca:pkcs11LayerArn',
        'arca:pkcs11PinSecret',
        'arca:hsmVpcId',
        'arca:hsmSubnetIds',
        'arca:hsmSecurityGroupIds',
        'arca:pkcs11jsBinary',
      ]) {
        assert.throws(
          () => buildApp({ ...noBundling, ...without(key) }),
          (error: Error) => error.message.includes('arca:hsm=pkcs11') && error.message.includes(key),
          key,
        );
      }
      assert.throws(
        () => buildApp({ ...noBundling, 'arca:hsm': 'pkcs11' }),
        /Lambda layer with the CloudHSM PKCS#11 library/,
      );
      assert.throws(
        () => buildApp({ ...noBundling, ...pkcs11, 'arca:hsmSubnetIds': 'my-subnet' }),
        /hsmSubnetIds/,
      );
      // A partial ARN would match no secret in a policy; a name with a space is no name.
      for (const pinSecret of [
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:arca/hsm-pin',
        'hsm pin',
      ]) {
        assert.throws(
          () => buildApp({ ...noBundling, ...pkcs11, 'arca:pkcs11PinSecret': pinSecret }),
          /arca:pkcs11PinSecret/,
          pinSecret,
        );
      }
    });

    test('passes the trusted backup key’s label and the slot to every function that opens a session, when given', () => {
      for (const file of [...hsmUsers, HEALTH]) {
        assert.equal(variables(stack, template, file).ARCA_PKCS11_BACKUP_KEY, undefined, file);
      }
      const withBackups = synth({
        ...pkcs11,
        'arca:pkcs11BackupKey': 'arca-backup',
        'arca:pkcs11Slot': '0x1',
      });
      for (const file of [...hsmUsers, HEALTH]) {
        const env = variables(withBackups.stack, withBackups.template, file);
        assert.equal(env.ARCA_PKCS11_BACKUP_KEY, 'arca-backup', file);
        assert.equal(env.ARCA_PKCS11_SLOT, '0x1', file);
        const config = deployedConfig(env);
        assert.equal(config.ARCA_PKCS11_BACKUP_KEY, 'arca-backup', file);
        assert.equal(config.ARCA_PKCS11_SLOT, 1n, file);
      }
      for (const file of others) {
        assert.equal(
          variables(withBackups.stack, withBackups.template, file).ARCA_PKCS11_BACKUP_KEY,
          undefined,
          file,
        );
      }
      assert.throws(
        () => buildApp({ ...noBundling, ...pkcs11, 'arca:pkcs11BackupKey': 'two\nlines' }),
        /arca:pkcs11BackupKey/,
      );
      assert.throws(
        () => buildApp({ ...noBundling, ...pkcs11, 'arca:pkcs11Slot': 'first' }),
        /arca:pkcs11Slot/,
      );
    });

    test('grants a PIN secret given by its complete ARN by that ARN, and passes it as given', () => {
      const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:arca/hsm-pin-AbC123';
      const byArn = synth({ ...pkcs11, 'arca:pkcs11PinSecret': arn });
      const file = 'functions/keys/sign.ts';
      assert.equal(variables(byArn.stack, byArn.template, file).ARCA_PKCS11_PIN_SECRET, arn);
      assert.deepEqual(
        withAction(statementsOf(byArn.stack, byArn.template, file), 'secretsmanager:GetSecretValue').map(
          (s) => s.Resource,
        ),
        [arn],
      );
    });
  });

  test('refuses an unknown mode, and a cluster without an HSM or that is not a cluster id', () => {
    assert.throws(() => buildApp({ ...noBundling, 'arca:hsm': 'cloudhsm' }), /arca:hsm must be/);
    assert.throws(
      () => buildApp({ ...noBundling, 'arca:cloudHsmClusterId': CLUSTER }),
      /arca:hsm to pkcs11 or kms/,
    );
    assert.throws(
      () => buildApp({ ...noBundling, 'arca:hsm': 'kms', 'arca:cloudHsmClusterId': 'my-cluster' }),
      /cloudHsmClusterId/,
    );
  });

  for (const [name, context] of Object.entries({
    'arca:hsm=kms with a cluster': { 'arca:hsm': 'kms', 'arca:cloudHsmClusterId': CLUSTER },
    'arca:hsm=pkcs11': pkcs11,
  })) {
    test(`cdk-nag finds no unacknowledged error (${name}), with or without a known account and region`, () => {
      const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
      for (const env of [{}, { CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-west-1' }]) {
        delete process.env.CDK_DEFAULT_ACCOUNT;
        delete process.env.CDK_DEFAULT_REGION;
        Object.assign(process.env, env);
        try {
          const { stack } = buildApp({ ...noBundling, ...context });
          const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
          const errors = report.violations
            .filter((v) => v.severity === 'error')
            .map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
          assert.deepEqual(errors, [], JSON.stringify(env));
        } finally {
          delete process.env.CDK_DEFAULT_ACCOUNT;
          delete process.env.CDK_DEFAULT_REGION;
          if (saved.account !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved.account;
          if (saved.region !== undefined) process.env.CDK_DEFAULT_REGION = saved.region;
        }
      }
    });
  }
});
