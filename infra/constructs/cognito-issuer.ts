import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
  type UserPoolDomain,
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface CognitoIssuerProps {
  /**
   * The resource server identifier: what clients ask a token for. Its one
   * scope is `.default`, so the scope a client requests is `{resource}/.default`,
   * exactly the scope an Azure SDK client asks its credential for when the
   * 401 challenge names this resource.
   */
  readonly resource: string;
  /** The Cognito prefix domain: `https://{domainPrefix}.auth.{region}.amazoncognito.com`. */
  readonly domainPrefix: string;
}

/** Cognito's own scope name: `{resource}/.default`. */
export const DEFAULT_SCOPE_NAME = '.default';

const noUsersReason =
  'The pool has no users: self sign-up is off, no user is ever created, and its one app client may ' +
  'use the client-credentials grant only (tokens are issued to the client for its id and secret).';

/**
 * The default token issuer when the stack is given none: a Cognito user pool
 * with no users, acting as an OAuth 2.0 authorization server for one
 * confidential app client that gets access tokens by the client-credentials
 * grant (POST {tokenEndpoint} grant_type=client_credentials, scope {scope}).
 *
 * Such an access token carries `iss` (the issuer below), `sub` and `client_id`
 * (both the app client id), `scope`, `token_use: access`, but NO `aud` claim.
 */
export class CognitoIssuer extends Construct {
  readonly userPool: UserPool;
  readonly resourceServer: UserPoolResourceServer;
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  /** `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`: the tokens' `iss`. */
  readonly issuer: string;
  /** `{issuer}/.well-known/jwks.json`. */
  readonly jwksUrl: string;
  /** The OAuth token endpoint of the prefix domain. */
  readonly tokenEndpoint: string;
  /** The resource server identifier. */
  readonly resource: string;
  /** `{resource}/.default`: the scope to request. */
  readonly scope: string;

  constructor(scope: Construct, id: string, props: CognitoIssuerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.userPool = new UserPool(this, 'UserPool', {
      // Client ids are principals the vaults' access policies and role assignments
      // name: a replaced pool would orphan them all.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
      selfSignUpEnabled: false,
      accountRecovery: AccountRecovery.NONE,
      // Nothing of Essentials or Plus applies to a pool without users.
      featurePlan: FeaturePlan.LITE,
      mfa: Mfa.OFF,
      // No user has a password; the policy is there for whoever adds users by hand.
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: `${noUsersReason} MFA applies to user sign-in; a machine client has no second factor.`,
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          `${noUsersReason} The Plus plan adds threat protection, which watches the sign-ins of ` +
          'local users; it does not evaluate client-credentials token requests, so it would guard nothing here.',
      },
    );

    const callArca = new ResourceServerScope({
      scopeName: DEFAULT_SCOPE_NAME,
      scopeDescription: 'Call Arca (vault permissions are checked by Arca itself)',
    });
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: props.resource,
      userPoolResourceServerName: 'Arca',
      scopes: [callArca],
    });
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
    });
    this.client = this.userPool.addClient('ClientCredentials', {
      generateSecret: true,
      // Only the token endpoint's client-credentials grant: no user flow at all
      // (ALLOW_REFRESH_TOKEN_AUTH alone, and this grant issues no refresh token).
      authFlows: { userSrp: false, custom: false },
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [OAuthScope.resourceServer(this.resourceServer, callArca)],
      },
      preventUserExistenceErrors: true,
    });

    this.issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
    this.jwksUrl = `${this.issuer}/.well-known/jwks.json`;
    this.tokenEndpoint = `${this.domain.baseUrl()}/oauth2/token`;
    this.resource = props.resource;
    this.scope = `${props.resource}/${DEFAULT_SCOPE_NAME}`;
  }
}

/**
 * A Cognito prefix domain from the stack name: lower case, [a-z0-9-] only,
 * none of the words Cognito reserves (aws, amazon, cognito), and the account
 * id appended, as prefix domains are unique across all accounts of a region.
 */
export function cognitoDomainPrefix(stackName: string, account: string): string {
  const base =
    stackName
      .toLowerCase()
      .replace(/aws|amazon|cognito/g, '')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50)
      .replace(/-+$/, '') || 'arca';
  return `${base}-${account}`;
}
