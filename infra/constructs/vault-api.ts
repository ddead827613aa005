import { Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Route } from '#lib/http/routes.ts';

export interface VaultApiProps {
  /** Also validate bearer tokens at the edge (see ArcaStackProps.edgeJwtAuthorizer). */
  readonly edgeJwt?: { readonly issuer: string; readonly audience: string };
  /** Only the custom domain answers once there is one. */
  readonly disableExecuteApiEndpoint?: boolean;
}

/**
 * Stage-wide limits. Azure Key Vault allows 4,000 secret transactions per
 * 10 seconds per vault; this stage serves every vault of the deployment.
 */
const throttle = { rateLimit: 400, burstLimit: 800 };

/** Identifiers only: no header, query string or body ever reaches the access log. */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    host: '$context.domainName',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

const noEdgeAuthorizerReason =
  'Bearer tokens are verified by every handler (jose) against the configured issuer, audience and JWKS, ' +
  'deny by default. An API Gateway JWT authorizer would answer a request without a token itself, with ' +
  '"WWW-Authenticate: Bearer scope=..." and {"message":"Unauthorized"}, not the Key Vault challenge ' +
  '(Bearer authorization=..., resource=...) that Azure SDK clients must receive first. ' +
  'Set edgeJwtAuthorizer for deployments without SDK clients.';

/**
 * The HTTP API: routes generated from the route table, access-logged,
 * throttled. The API, its stage and the edge authorizer live where this
 * construct does (the root stack); each area's routes, integrations and
 * Lambda permissions are added in the area's own nested stack (addRoutes).
 */
export class VaultApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly authorizer?: HttpJwtAuthorizer;

  constructor(scope: Construct, id: string, props: VaultApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      apiName: Stack.of(this).stackName,
      description: 'Arca: the Azure Key Vault data-plane API',
      createDefaultStage: false,
      disableExecuteApiEndpoint: props.disableExecuteApiEndpoint ?? false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_YEAR });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: accessLogFormat },
    });
    if (props.edgeJwt) {
      this.authorizer = new HttpJwtAuthorizer('EdgeJwt', props.edgeJwt.issuer, {
        jwtAudience: [props.edgeJwt.audience],
      });
    }
  }

  /**
   * One API route per route-table entry, each sent to the function of its
   * handler file, created in `scope` (an area's nested stack) together with
   * the integrations and the Lambda permissions (one per route, limited to
   * its path).
   */
  addRoutes(scope: Construct, routes: readonly Route[], functions: ReadonlyMap<string, IFunction>): void {
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of routes) {
      const fn = functions.get(route.handler);
      if (!fn) throw new Error(`No function for ${route.handler} (${route.method} ${route.path})`);
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.operationId}Integration`, fn);
        integrations.set(route.handler, integration);
      }
      const method = HttpMethod[route.method];
      const httpRoute = new HttpRoute(scope, `${method}${route.path}`, {
        httpApi: this.api,
        routeKey: HttpRouteKey.with(route.path, method),
        integration,
        authorizer: this.authorizer,
      });
      if (!this.authorizer) {
        Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: noEdgeAuthorizerReason });
      }
    }
  }
}
