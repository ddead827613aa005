import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { UnauthorizedError } from '../errors.ts';

/** Who is calling, from the token's claims. */
export interface Principal {
  /** oid, else sub. */
  readonly objectId: string;
  readonly tenantId?: string;
  /** appid or azp: the client application. */
  readonly appId?: string;
  readonly upn?: string;
  /** Group object ids (the `groups` claim). */
  readonly groups?: readonly string[];
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** When set, a token naming another tenant (tid) is refused. */
  readonly tenantId?: string;
  readonly keys: JWTVerifyGetKey;
}

/** Asymmetric algorithms only: `none` and the HMAC family are never accepted. */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/**
 * Verifies a bearer JWT: signature against the issuer's keys, issuer,
 * audience, expiry and not-before (60 s of clock skew), algorithm allow-list.
 * Failure messages say what was wrong with the token, never its content.
 */
export function makeTokenVerifier(options: TokenVerifierOptions) {
  return async (token: string): Promise<Principal & { expiresAt?: number }> => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: 60,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new UnauthorizedError(`AKV10032: Invalid token: ${reason(error)}`);
    }
    if (!audienceMatches(payload, options.audience)) {
      throw new UnauthorizedError('AKV10032: Invalid token: the aud claim is not accepted.');
    }
    const tid = typeof payload.tid === 'string' ? payload.tid : undefined;
    if (options.tenantId && tid && tid !== options.tenantId) {
      throw new UnauthorizedError(
        "AKV10032: Invalid issuer: the token was issued for another tenant than this vault's.",
      );
    }
    const objectId = str(payload.oid) ?? str(payload.sub);
    if (!objectId) throw new UnauthorizedError('AKV10032: Invalid token: it names no subject (oid or sub).');
    const appId = str(payload.appid) ?? str(payload.azp) ?? str(payload.client_id);
    const upn = str(payload.upn) ?? str(payload.preferred_username);
    const expiresAt = typeof payload.exp === 'number' ? payload.exp : undefined;
    const groups = Array.isArray(payload.groups) ? payload.groups.filter((g) => typeof g === 'string') : [];
    return {
      objectId,
      ...(tid && { tenantId: tid }),
      ...(appId && { appId }),
      ...(upn && { upn }),
      ...(groups.length > 0 && { groups }),
      ...(expiresAt && { expiresAt }),
    };
  };
}

/**
 * The audience must be this service. Cognito's client-credentials access
 * tokens carry none; they name the client in `client_id` (and say
 * `token_use: access`), which then must be the configured audience, as API
 * Gateway's JWT authorizer also checks.
 */
function audienceMatches(payload: Record<string, unknown>, audience: string): boolean {
  const aud = payload.aud;
  if (aud !== undefined) return Array.isArray(aud) ? aud.includes(audience) : aud === audience;
  return payload.client_id === audience && payload.token_use === 'access';
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) return `the ${error.claim} claim is not accepted.`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the signing algorithm is not accepted.';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token.';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'the token is malformed.';
  if (error instanceof errors.JWKSTimeout) return "the issuer's keys could not be fetched in time.";
  return 'the token could not be verified.';
}
