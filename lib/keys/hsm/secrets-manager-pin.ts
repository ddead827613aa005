/**
 * The PKCS#11 USER PIN read from AWS Secrets Manager (GetSecretValue) when a
 * function first opens its HSM session: the PIN is never in the template nor
 * in the function's configuration, only in the process's memory, and a
 * rotated PIN is picked up by the next cold start without a deployment.
 *
 * The secret's SecretString is the PIN itself (for CloudHSM,
 * `{crypto user name}:{password}`), surrounding whitespace ignored. Failures
 * become a ServiceUnavailableError naming at most the exception's name, never
 * AWS's message, and never anything of the value.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ServiceUnavailableError } from '#lib/errors.ts';
import { AwsCallTimeout, exceptionName, withDeadline } from './aws-call.ts';

export interface PinSecretOptions {
  /** How long GetSecretValue may take before the HSM counts as unreachable. @default 3000 */
  readonly timeoutMs?: number;
}

/** The PIN held by the secret (a name or ARN). Throws a ServiceUnavailableError when it cannot be read. */
export async function readPinSecret(
  client: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  options: PinSecretOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  let secretString: string | undefined;
  try {
    const command = new GetSecretValueCommand({ SecretId: secretId });
    const out = await withDeadline(timeoutMs, (abortSignal) => client.send(command, { abortSignal }));
    secretString = out.SecretString;
  } catch (error) {
    throw translatePinSecretError(error, error instanceof AwsCallTimeout ? timeoutMs : undefined);
  }
  const pin = secretString?.trim();
  if (!pin) {
    throw new ServiceUnavailableError(
      'The PKCS#11 PIN secret (ARCA_PKCS11_PIN_SECRET) has no SecretString: store the PIN as text.',
    );
  }
  return pin;
}

/** Our 503 for a GetSecretValue failure: what an operator can act on, and the exception's name only. */
function translatePinSecretError(error: unknown, timedOutAfterMs?: number): ServiceUnavailableError {
  const what = 'The PKCS#11 PIN secret (ARCA_PKCS11_PIN_SECRET)';
  if (timedOutAfterMs !== undefined) {
    return new ServiceUnavailableError(
      `${what} could not be read: Secrets Manager did not answer within ${timedOutAfterMs} ms ` +
        '(a function in a VPC needs a route or an interface endpoint to it).',
    );
  }
  const name = exceptionName(error);
  switch (name) {
    case 'AccessDeniedException':
      return new ServiceUnavailableError(
        `${what} could not be read (${name}): the function's role needs secretsmanager:GetSecretValue on it, ` +
          'and kms:Decrypt on its key if that is a customer managed key.',
      );
    case 'ResourceNotFoundException':
      return new ServiceUnavailableError(`${what} does not exist (${name}).`);
    case 'DecryptionFailure':
      return new ServiceUnavailableError(
        `${what} could not be decrypted (${name}): the function's role needs kms:Decrypt on the secret's key.`,
      );
    default:
      return new ServiceUnavailableError(`${what} could not be read (${name || 'unknown error'}).`);
  }
}
