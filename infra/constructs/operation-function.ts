import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { type IGrantable, type IPrincipal, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface OperationFunctionProps {
  /** Entry file relative to the project root, as the route table names it. */
  readonly handlerFile: string;
  /** Folder holding package.json, package-lock.json and the handler files. */
  readonly projectRoot: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
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
      bundling: {
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
  }
}
