import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig } from '#lib/config.ts';
import { handlerFiles, routes } from '#lib/http/routes.ts';
import { collectionIndex, tableKeys } from '#lib/store/table-schema.ts';
import { buildApp } from '../../infra/app.ts';
import type { ArcaStack } from '../../infra/arca-stack.ts';

/**
 * Bundling is skipped (no esbuild run), which keeps these tests fast; the
 * handler files named by the route table must still exist, because
 * NodejsFunction checks its entry file.
 */
const noBundling = { 'aws:cdk:bundling-stacks': [] };

function synth(context: Record<string, unknown> = {}): { stack: ArcaStack; template: Template } {
  const { stack } = buildApp({ ...noBundling, ...context });
  return { stack, template: Template.fromStack(stack) };
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

const getOnly = (file: string): boolean =>
  routes.filter((r) => r.handler === file).every((r) => r.method === 'GET');

describe('the Arca stack, with default settings', () => {
  const { stack, template } = synth();
  const kek = logicalId(stack.kek.key);

  test('has one Lambda function per handler file, on nodejs22.x and arm64, traced, 10 s timeout', () => {
    assert.deepEqual([...stack.functions.keys()], handlerFiles());
    template.resourceCountIs('AWS::Lambda::Function', handlerFiles().length);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: 10,
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  test('gives every function an environment that lib/config.ts accepts, with the KMS keyring on the KEK', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
      assert.equal(variables.ARCA_KEYRING, 'kms');
      assert.deepEqual(variables.ARCA_KMS_KEY_ID, { 'Fn::GetAtt': [kek, 'Arn'] });
      assert.deepEqual(variables.ARCA_TABLE_NAME, { Ref: logicalId(stack.table.table) });
      // Deploy-time values (table name, key ARN) become placeholders.
      const env = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : `deployed-${k}`]),
      );
      const config = parseConfig(env);
      assert.equal(config.ARCA_VAULT_DOMAIN, 'vault.example.com');
    }
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
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: collectionIndex.indexName,
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...collectionIndex.nonKeyAttributes] },
        }),
      ],
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
    const actions = allowedActions(stack, template, 'functions/secrets/get-secret.ts');
    assert.ok(actions.has('dynamodb:GetItem') && actions.has('dynamodb:Query'));
    for (const write of [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]) {
      assert.ok(!actions.has(write), `get-secret may ${write}`);
    }
    assert.ok(
      ![...actions].some((a) => a.startsWith('kms:GenerateDataKey')),
      'get-secret may make data keys',
    );
    assert.deepEqual(
      allowedActions(stack, template, 'functions/secrets/get-secret.ts', kek),
      new Set(['kms:Decrypt']),
    );
  });

  test('lets a writing function (set-secret) write items and wrap new data keys under the KEK', () => {
    const actions = allowedActions(stack, template, 'functions/secrets/set-secret.ts');
    assert.ok(actions.has('dynamodb:PutItem') && actions.has('dynamodb:UpdateItem'));
    assert.deepEqual(
      allowedActions(stack, template, 'functions/secrets/set-secret.ts', kek),
      new Set(['kms:GenerateDataKey', 'kms:Decrypt']),
    );
  });

  test('lets a function write exactly when one of its routes is not a GET', () => {
    for (const file of handlerFiles()) {
      assert.equal(allowedActions(stack, template, file).has('dynamodb:PutItem'), !getOnly(file), file);
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

describe('the Arca stack, with edgeJwtAuthorizer on', () => {
  const { template } = synth({
    'arca:edgeJwtAuthorizer': true,
    'arca:tokenIssuer': 'https://issuer.example.org',
  });

  test('attaches one JWT authorizer, for the configured issuer and audience, to every route', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.org', Audience: ['https://vault.azure.net'] },
    });
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', {
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: Match.anyValue() },
    });
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

describe('cdk-nag AwsSolutions', () => {
  const configurations: Record<string, Record<string, unknown>> = {
    defaults: {},
    // `-c arca:edgeJwtAuthorizer=true` arrives as a string.
    'edge JWT authorizer': { 'arca:edgeJwtAuthorizer': 'true' },
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
});
