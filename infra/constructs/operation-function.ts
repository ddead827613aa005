import path from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, ISubnet, IVpc } from 'aws-cdk-lib/aws-ec2';
import {
  type IGrantable,
  type IPrincipal,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, type ILayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface OperationFunctionProps {
  /** Entry file relative to the project root, as the route table names it. */
  readonly handlerFile: string;
  /** Folder holding package.json, package-lock.json and the handler files. */
  readonly projectRoot: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Lambda layers (the CloudHSM PKCS#11 library, with ARCA_HSM=pkcs11). */
  readonly layers?: readonly ILayerVersion[];
  /** Run in these subnets of a VPC (the CloudHSM cluster's), with these security groups. */
  readonly network?: {
    readonly vpc: IVpc;
    readonly subnets: readonly ISubnet[];
    readonly securityGroups: readonly ISecurityGroup[];
  };
  /**
   * pkcs11js's native binary (build/Release/pkcs11.node) built for Lambda
   * (linux arm64, Node.js 22, Amazon Linux 2023), put in place of the one
   * built on this machine. For functions that open PKCS#11 sessions on AWS
   * (ARCA_HSM=pkcs11).
   */
  readonly pkcs11jsBinary?: string;
}

/**
 * Bundled as ESM, yet CommonJS code inside the bundle still calls require()
 * (Node built-ins, optional packages of the AWS SDK), which esbuild's ESM
 * output cannot do without a `require` in scope.
 */
const requireShim =
  "import { createRequire as arcaCreateRequire } from 'node:module'; " +
  'const require = arcaCreateRequire(import.meta.url);';

/**
 * pkcs11js loads its binary with require('./build/Release/pkcs11.node'),
 * which esbuild cannot bundle: the copy loader puts the file beside the
 * bundle (pkcs11-{hash}.node) and keeps the require. It runs when pkcs11js
 * is first imported, which lib/runtime/keys.ts and the health handler do only
 * with ARCA_HSM=pkcs11, so elsewhere the binary (built for the machine that
 * synthesises) is never loaded. Functions that do load it on Lambda get a
 * Lambda build instead (pkcs11jsBinary), copied over it after bundling.
 */
function nativeModules(pkcs11jsBinary: string | undefined): Pick<BundlingOptions, 'loader' | 'commandHooks'> {
  if (!pkcs11jsBinary) return { loader: { '.node': 'copy' } };
  const binary = path.resolve(pkcs11jsBinary);
  return {
    loader: { '.node': 'copy' },
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_input, output) => [
        `for f in "${output}"/pkcs11-*.node; do test -f "$f" && cp "${binary}" "$f" || exit 1; done`,
      ],
    },
  };
}

/**
 * The cdk-nag finding id of a wildcard ARN made with Stack.formatArn: the
 * stack's partition, region and account appear as <AWS::…> while they are
 * deploy-time values, and as themselves once the CLI knows them.
 */
export function wildcardArnFinding(scope: Construct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const arn = `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
  return `AwsSolutions-IAM5[Resource::${arn}]`;
}

/**
 * One Lambda function for one handler file: bundled with esbuild, arm64,
 * traced, logging to a log group of its own with a retention. It starts with
 * no permissions beyond writing its own logs; the stack grants the table and
 * key access its operations need.
 */
export class OperationFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly grantPrincipal: IPrincipal;

  constructor(scope: Construct, id: string, props: OperationFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.THREE_MONTHS });
    // Not AWSLambdaBasicExecutionRole: that policy may create and write any log group.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    this.grantPrincipal = role;

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(props.projectRoot, props.handlerFile),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      description: props.description,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(props.layers && { layers: [...props.layers] }),
      ...(props.network && {
        vpc: props.network.vpc,
        vpcSubnets: { subnets: [...props.network.subnets] },
        securityGroups: [...props.network.securityGroups],
      }),
      bundling: {
        ...nativeModules(props.pkcs11jsBinary),
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        banner: requireShim,
        // The AWS SDK is bundled rather than taken from the runtime, so a function
        // runs the versions package-lock.json pins (the ones the tests ran against).
        externalModules: [],
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime chosen for the handlers (esbuild target node22, tested on it); ' +
        'moving to a newer runtime is a deliberate change made with its own test run.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and PutTelemetryRecords support no resource-level scoping.',
    });
    if (props.network) this.grantNetworkInterfaces(role, props.network);
  }

  /**
   * What Lambda needs to attach the function to the VPC, in place of the
   * AWSLambdaVPCAccessExecutionRole managed policy (which CDK adds only to a
   * role it creates): network interfaces in the given subnets and security
   * groups, and the two Describe calls, which support no resource scoping.
   */
  private grantNetworkInterfaces(role: Role, network: NonNullable<OperationFunctionProps['network']>): void {
    const stack = Stack.of(this);
    const ec2 = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName });
    const interfaces = ec2('network-interface', '*');
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          ...network.subnets.map((s) => ec2('subnet', s.subnetId)),
          ...network.securityGroups.map((g) => ec2('security-group', g.securityGroupId)),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [interfaces],
      }),
    );
    Validations.of(role).acknowledge(
      {
        id: wildcardArnFinding(this, 'ec2', 'network-interface/*'),
        reason:
          'Lambda creates and deletes the network interfaces of a function in a VPC; their ids are not known ' +
          'in advance. Creation is limited to the given subnets and security groups.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeNetworkInterfaces and DescribeSubnets (VPC attachment), and active tracing ' +
          '(xray:PutTraceSegments, PutTelemetryRecords), support no resource-level scoping.',
      },
    );
  }
}
