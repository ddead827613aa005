import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import {
  DecryptCommand,
  type DecryptCommandInput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandInput,
  InvalidCiphertextException,
  KMSClient,
  KMSInternalException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { Barrier, type SealContext } from '#lib/crypto/barrier.ts';
import { CachingKeyring } from '#lib/crypto/data-key-cache.ts';
import { CryptoIntegrityError } from '#lib/crypto/errors.ts';
import { KmsKeyring } from '#lib/crypto/kms-keyring.ts';
import { ServiceUnavailableError, ThrottledError } from '#lib/errors.ts';

const keyId = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const context = { vault: 'payments', kind: 'secret', name: 'db-password', version: 'v1' };
const sealContext: SealContext = context;

const kms = mockClient(KMSClient);
const client = new KMSClient({ region: 'eu-west-1' });

function awsError(name: string, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

beforeEach(() => kms.reset());

describe('KmsKeyring', () => {
  it('asks KMS for an AES-256 data key under its key id and the item context', async () => {
    const plaintext = randomBytes(32);
    const blob = randomBytes(184);
    kms.on(GenerateDataKeyCommand).resolves({ Plaintext: plaintext, CiphertextBlob: blob, KeyId: keyId });
    const dataKey = await new KmsKeyring(client, keyId).generateDataKey(context);
    assert.deepEqual(dataKey.plaintext, plaintext);
    assert.deepEqual(dataKey.wrapped, blob);
    const calls = kms.commandCalls(GenerateDataKeyCommand);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.args[0].input, {
      KeyId: keyId,
      KeySpec: 'AES_256',
      EncryptionContext: context,
    });
  });

  it('asks KMS to decrypt the wrapped key under its key id and the same context', async () => {
    const plaintext = randomBytes(32);
    const blob = randomBytes(184);
    kms.on(DecryptCommand).resolves({ Plaintext: plaintext, KeyId: keyId });
    assert.deepEqual(await new KmsKeyring(client, keyId).unwrapDataKey(blob, context), plaintext);
    const input = kms.commandCalls(DecryptCommand)[0]?.args[0].input;
    assert.deepEqual(input?.EncryptionContext, context);
    assert.equal(input?.KeyId, keyId);
    assert.deepEqual(Buffer.from(input?.CiphertextBlob ?? []), blob);
  });

  it('turns InvalidCiphertextException into CryptoIntegrityError', async () => {
    kms.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'bad', $metadata: {} }));
    await assert.rejects(
      new KmsKeyring(client, keyId).unwrapDataKey(randomBytes(184), context),
      CryptoIntegrityError,
    );
  });

  for (const name of ['ThrottlingException', 'LimitExceededException']) {
    it(`turns ${name} into a 429 Throttled`, async () => {
      kms.on(DecryptCommand).rejects(awsError(name));
      const keyring = new KmsKeyring(client, keyId);
      await assert.rejects(keyring.unwrapDataKey(randomBytes(184), context), (error: unknown) => {
        assert.ok(error instanceof ThrottledError);
        assert.equal(error.status, 429);
        assert.equal(error.code, 'Throttled');
        return true;
      });
    });
  }

  it('turns any other failure into a 503 that does not carry the ciphertext', async () => {
    const blob = randomBytes(184);
    const leaky = [
      new KMSInternalException({ message: `could not decrypt ${blob.toString('base64')}`, $metadata: {} }),
      awsError('AccessDeniedException', `denied for ${blob.toString('hex')}`),
      new Error(`socket hang up ${blob.toString('base64')}`),
    ];
    for (const failure of leaky) {
      kms.reset();
      kms.on(DecryptCommand).rejects(failure);
      await assert.rejects(new KmsKeyring(client, keyId).unwrapDataKey(blob, context), (error: unknown) => {
        assert.ok(error instanceof ServiceUnavailableError);
        assert.equal(error.status, 503);
        assert.equal(error.code, 'ServiceUnavailable');
        for (const encoding of ['base64', 'hex'] as const) {
          assert.ok(!error.message.includes(blob.toString(encoding)));
          assert.ok(!String(error.stack).includes(blob.toString(encoding)));
        }
        return true;
      });
    }
  });

  it('turns a GenerateDataKey failure into a 503 as well', async () => {
    kms.on(GenerateDataKeyCommand).rejects(awsError('KMSInvalidStateException'));
    await assert.rejects(new KmsKeyring(client, keyId).generateDataKey(context), ServiceUnavailableError);
  });

  it('treats a response without key material as unavailable', async () => {
    kms.on(GenerateDataKeyCommand).resolves({ KeyId: keyId }).on(DecryptCommand).resolves({ KeyId: keyId });
    const keyring = new KmsKeyring(client, keyId);
    await assert.rejects(keyring.generateDataKey(context), ServiceUnavailableError);
    await assert.rejects(keyring.unwrapDataKey(randomBytes(184), context), ServiceUnavailableError);
  });

  it('counts every KMS round trip, failed ones included', async () => {
    kms.on(GenerateDataKeyCommand).resolves({ Plaintext: randomBytes(32), CiphertextBlob: randomBytes(184) });
    kms
      .on(DecryptCommand)
      .resolvesOnce({ Plaintext: randomBytes(32) })
      .rejects(awsError('ThrottlingException'));
    const keyring = new KmsKeyring(client, keyId);
    assert.equal(keyring.calls, 0);
    await keyring.generateDataKey(context);
    await keyring.unwrapDataKey(randomBytes(184), context);
    await assert.rejects(keyring.unwrapDataKey(randomBytes(184), context), ThrottledError);
    assert.equal(keyring.calls, 3);
    assert.equal(kms.calls().length, 3);
  });
});

/**
 * A stand-in for KMS with its real semantics: the encryption context is
 * authenticated with the data key, and Decrypt fails with
 * InvalidCiphertextException unless it is given the same context.
 */
function simulateKms(): void {
  const kek = randomBytes(32);
  const aad = (ec: Record<string, string> | undefined) =>
    Buffer.from(JSON.stringify(Object.entries(ec ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));
  const invalid = () =>
    new InvalidCiphertextException({ message: 'InvalidCiphertextException', $metadata: {} });

  kms.on(GenerateDataKeyCommand).callsFake((input: GenerateDataKeyCommandInput) => {
    assert.equal(input.KeyId, keyId);
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: 16 });
    cipher.setAAD(aad(input.EncryptionContext));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      Plaintext: plaintext,
      CiphertextBlob: Buffer.concat([iv, cipher.getAuthTag(), ct]),
      KeyId: keyId,
    };
  });

  kms.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
    const blob = Buffer.from(input.CiphertextBlob ?? []);
    if (input.KeyId !== keyId || blob.length !== 60) throw invalid();
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(aad(input.EncryptionContext));
      decipher.setAuthTag(blob.subarray(12, 28));
      return {
        Plaintext: Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]),
        KeyId: keyId,
      };
    } catch {
      throw invalid();
    }
  });
}

describe('Barrier over KmsKeyring', () => {
  const secret = Buffer.from('sealed through KMS');

  it('opens what it sealed, one KMS call each way', async () => {
    simulateKms();
    const keyring = new KmsKeyring(client, keyId);
    const barrier = new Barrier(keyring);
    const sealed = await barrier.seal(secret, sealContext);
    assert.deepEqual(await barrier.open(sealed, sealContext), secret);
    assert.equal(keyring.calls, 2);
    assert.deepEqual(kms.commandCalls(DecryptCommand)[0]?.args[0].input.EncryptionContext, context);
  });

  it('refuses to open under another item, because KMS refuses the context', async () => {
    simulateKms();
    const barrier = new Barrier(new KmsKeyring(client, keyId));
    const sealed = await barrier.seal(secret, sealContext);
    for (const field of ['vault', 'kind', 'name', 'version'] as const) {
      await assert.rejects(barrier.open(sealed, { ...sealContext, [field]: 'moved' }), CryptoIntegrityError);
    }
  });

  it('refuses a tampered wrapped key', async () => {
    simulateKms();
    const barrier = new Barrier(new KmsKeyring(client, keyId));
    const sealed = await barrier.seal(secret, sealContext);
    const wrappedKey = Buffer.from(sealed.wrappedKey);
    wrappedKey[40] = (wrappedKey[40] ?? 0) ^ 1;
    await assert.rejects(barrier.open({ ...sealed, wrappedKey }, sealContext), CryptoIntegrityError);
  });

  it('makes no Decrypt calls for hot reads behind the data-key cache', async () => {
    simulateKms();
    const keyring = new KmsKeyring(client, keyId);
    const barrier = new Barrier(new CachingKeyring(keyring));
    const sealed = await barrier.seal(secret, sealContext);
    for (let i = 0; i < 100; i++) assert.deepEqual(await barrier.open(sealed, sealContext), secret);
    assert.equal(kms.commandCalls(DecryptCommand).length, 0);
    assert.equal(keyring.calls, 1);
  });
});
