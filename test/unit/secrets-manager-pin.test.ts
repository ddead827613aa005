import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ServiceUnavailableError } from '#lib/errors.ts';
import { readPinSecret } from '#lib/keys/hsm/secrets-manager-pin.ts';

const secretsManager = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'eu-west-1' });
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:arca/hsm-pin-AbCdEf';
const PIN = 'crypto-user:Pa55-word-never-shown';

/** An AWS SDK error as the client throws it, with a message full of things callers must not see. */
function awsError(name: string): Error {
  return Object.assign(
    new Error(`${name}: User arn:aws:iam::111122223333:role/secret-detail is not authorized`),
    { name, $fault: 'client', $metadata: { requestId: 'req-123' } },
  );
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('the PIN was read'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ServiceUnavailableError, String(error));
  assert.equal(error.status, 503);
  assert.doesNotMatch(error.message, /arn:|111122223333|secret-detail|req-123|Pa55/);
  return error.message;
}

describe('the PKCS#11 PIN from Secrets Manager', () => {
  beforeEach(() => secretsManager.reset());

  it('reads the SecretString of the named secret, surrounding whitespace ignored', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: `  ${PIN}\n` });
    assert.equal(await readPinSecret(client, SECRET), PIN);
    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    assert.deepEqual(
      calls.map((call) => call.args[0].input),
      [{ SecretId: SECRET }],
    );
  });

  it('refuses a secret without text (binary or blank) with a 503 that says to store the PIN as text', async () => {
    for (const output of [{ SecretBinary: new Uint8Array([1, 2, 3]) }, { SecretString: '  \n' }]) {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand).resolves(output);
      assert.match(
        await refusal(readPinSecret(client, SECRET)),
        /has no SecretString: store the PIN as text/,
      );
    }
  });

  it('turns AWS failures into a 503 that names the exception and what to grant, never its message', async () => {
    const cases: [string, RegExp][] = [
      ['AccessDeniedException', /\(AccessDeniedException\).*secretsmanager:GetSecretValue/],
      ['ResourceNotFoundException', /does not exist \(ResourceNotFoundException\)/],
      ['DecryptionFailure', /\(DecryptionFailure\).*kms:Decrypt/],
      ['InternalServiceError', /could not be read \(InternalServiceError\)/],
    ];
    for (const [name, message] of cases) {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand).rejects(awsError(name));
      assert.match(await refusal(readPinSecret(client, SECRET)), message, name);
    }
  });

  it('gives up at its deadline, aborting the request, and says a VPC needs a route to Secrets Manager', async () => {
    let aborted = false;
    // A client that never answers (a function in a VPC without a route to Secrets Manager).
    const silent = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        options?.abortSignal?.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise(() => {});
      },
    } as unknown as Pick<SecretsManagerClient, 'send'>;
    const message = await refusal(readPinSecret(silent, SECRET, { timeoutMs: 20 }));
    assert.match(message, /did not answer within 20 ms.*interface endpoint/);
    assert.ok(aborted, 'the request was not aborted');
  });
});
