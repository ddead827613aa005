import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Barrier, type SealContext, type SealedValue } from '#lib/crypto/barrier.ts';
import { CryptoIntegrityError } from '#lib/crypto/errors.ts';
import type { DataKey, EncryptionContext, Keyring } from '#lib/crypto/keyring.ts';
import { LocalKeyring } from '#lib/crypto/local-keyring.ts';

const context: SealContext = { vault: 'payments', kind: 'secret', name: 'db-password', version: 'v1' };
const plaintext = Buffer.from('correct horse battery staple: the database password nobody may see');

function newBarrier(): Barrier {
  return new Barrier(LocalKeyring.fromKey(randomBytes(32)));
}

function flipBit(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** Every 8-byte window of the plaintext, so a partial leak is caught as well as a whole one. */
function plaintextWindows(): Buffer[] {
  const windows: Buffer[] = [];
  for (let i = 0; i + 8 <= plaintext.length; i++) windows.push(plaintext.subarray(i, i + 8));
  return windows;
}

/** A keyring that records what it was asked and keeps the data keys it handed out. */
class RecordingKeyring implements Keyring {
  readonly id = 'recording';
  readonly contexts: EncryptionContext[] = [];
  readonly handedOut: Buffer[] = [];
  private readonly inner = LocalKeyring.fromKey(randomBytes(32));

  async generateDataKey(ctx: EncryptionContext): Promise<DataKey> {
    this.contexts.push(ctx);
    const dataKey = await this.inner.generateDataKey(ctx);
    this.handedOut.push(dataKey.plaintext);
    return dataKey;
  }

  async unwrapDataKey(wrapped: Buffer, ctx: EncryptionContext): Promise<Buffer> {
    this.contexts.push(ctx);
    const key = await this.inner.unwrapDataKey(wrapped, ctx);
    this.handedOut.push(key);
    return key;
  }
}

describe('Barrier', () => {
  it('opens what it sealed', async () => {
    const barrier = newBarrier();
    const sealed = await barrier.seal(plaintext, context);
    assert.deepEqual(await barrier.open(sealed, context), plaintext);
  });

  it('opens an empty value', async () => {
    const barrier = newBarrier();
    const sealed = await barrier.seal(Buffer.alloc(0), context);
    assert.equal((await barrier.open(sealed, context)).length, 0);
  });

  it('records the keyring id beside the wrapped key', async () => {
    const sealed = await new Barrier(LocalKeyring.fromKey(randomBytes(32), 'dev-kek')).seal(
      plaintext,
      context,
    );
    assert.equal(sealed.keyring, 'dev-kek');
  });

  it('uses a fresh data key and iv for every seal of the same plaintext', async () => {
    const barrier = newBarrier();
    const first = await barrier.seal(plaintext, context);
    const second = await barrier.seal(plaintext, context);
    assert.notDeepEqual(first.ciphertext, second.ciphertext);
    assert.notDeepEqual(first.wrappedKey, second.wrappedKey);
    assert.notDeepEqual(first.iv, second.iv);
    assert.deepEqual(await barrier.open(first, context), plaintext);
    assert.deepEqual(await barrier.open(second, context), plaintext);
  });

  it('asks the keyring for a data key bound to vault, kind, name and version', async () => {
    const keyring = new RecordingKeyring();
    const barrier = new Barrier(keyring);
    const sealed = await barrier.seal(plaintext, context);
    await barrier.open(sealed, context);
    const expected = { vault: 'payments', kind: 'secret', name: 'db-password', version: 'v1' };
    assert.deepEqual(keyring.contexts, [expected, expected]);
  });

  it('zeroes the data key after sealing and after opening', async () => {
    const keyring = new RecordingKeyring();
    const barrier = new Barrier(keyring);
    const sealed = await barrier.seal(plaintext, context);
    await barrier.open(sealed, context);
    await assert.rejects(barrier.open(sealed, { ...context, version: 'v2' }), CryptoIntegrityError);
    assert.equal(keyring.handedOut.length, 2);
    for (const key of keyring.handedOut) assert.ok(key.every((byte) => byte === 0));
  });

  for (const field of ['vault', 'kind', 'name', 'version'] as const) {
    it(`refuses to open under another ${field}`, async () => {
      const barrier = newBarrier();
      const sealed = await barrier.seal(plaintext, context);
      await assert.rejects(
        barrier.open(sealed, { ...context, [field]: `other-${field}` }),
        CryptoIntegrityError,
      );
    });
  }

  it('binds the ciphertext itself to the context, not only the wrapped key', async () => {
    // Same data key under both contexts: only the additional data tells them apart.
    const keyring: Keyring = {
      id: 'context-blind',
      generateDataKey: async () => ({ plaintext: Buffer.alloc(32, 7), wrapped: Buffer.from('w') }),
      unwrapDataKey: async () => Buffer.alloc(32, 7),
    };
    const barrier = new Barrier(keyring);
    const sealed = await barrier.seal(plaintext, context);
    assert.deepEqual(await barrier.open(sealed, context), plaintext);
    await assert.rejects(barrier.open(sealed, { ...context, name: 'other' }), CryptoIntegrityError);
  });

  for (const part of ['ciphertext', 'tag', 'iv', 'wrappedKey'] as const) {
    it(`refuses to open when any bit of the ${part} is flipped`, async () => {
      const barrier = newBarrier();
      const sealed = await barrier.seal(plaintext, context);
      for (let index = 0; index < sealed[part].length; index++) {
        const tampered: SealedValue = { ...sealed, [part]: flipBit(sealed[part], index) };
        await assert.rejects(barrier.open(tampered, context), CryptoIntegrityError, `${part}[${index}]`);
      }
    });
  }

  it('refuses a truncated tag', async () => {
    const barrier = newBarrier();
    const sealed = await barrier.seal(plaintext, context);
    for (const length of [0, 4, 8, 12, 15]) {
      const tampered = { ...sealed, tag: sealed.tag.subarray(0, length) };
      await assert.rejects(barrier.open(tampered, context), CryptoIntegrityError, `tag of ${length} bytes`);
    }
  });

  it('refuses a truncated or extended ciphertext', async () => {
    const barrier = newBarrier();
    const sealed = await barrier.seal(plaintext, context);
    const shorter = { ...sealed, ciphertext: sealed.ciphertext.subarray(1) };
    const longer = { ...sealed, ciphertext: Buffer.concat([sealed.ciphertext, Buffer.from([0])]) };
    await assert.rejects(barrier.open(shorter, context), CryptoIntegrityError);
    await assert.rejects(barrier.open(longer, context), CryptoIntegrityError);
  });

  it('keeps no plaintext bytes in the sealed value', async () => {
    const sealed = await newBarrier().seal(plaintext, context);
    const parts = [sealed.wrappedKey, sealed.iv, sealed.tag, sealed.ciphertext];
    const serialised = Buffer.from(JSON.stringify(sealed));
    for (const haystack of [...parts, Buffer.concat(parts), serialised]) {
      for (const window of plaintextWindows()) assert.equal(haystack.indexOf(window), -1);
    }
    assert.ok(!serialised.toString('latin1').includes(plaintext.toString('base64').slice(0, 12)));
  });

  it('never puts the plaintext in an error', async () => {
    const barrier = newBarrier();
    const sealed = await barrier.seal(plaintext, context);
    const attempts = [
      barrier.open(sealed, { ...context, version: 'v2' }),
      barrier.open({ ...sealed, tag: flipBit(sealed.tag, 0) }, context),
      barrier.open({ ...sealed, ciphertext: flipBit(sealed.ciphertext, 3) }, context),
      barrier.open({ ...sealed, wrappedKey: flipBit(sealed.wrappedKey, 40) }, context),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => assert.fail('opened a value it should have refused'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof CryptoIntegrityError);
      const text = `${error.message}\n${error.stack ?? ''}\n${String(error)}\n${JSON.stringify(error)}`;
      assert.ok(!text.includes(plaintext.toString('utf8')));
      assert.ok(!text.includes(plaintext.toString('base64')));
      assert.ok(!text.includes(plaintext.toString('hex')));
      assert.ok(!text.includes('correct horse'));
      assert.equal((error as { cause?: unknown }).cause, undefined);
    }
  });
});
