import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Barrier } from '#lib/crypto/barrier.ts';
import { CryptoIntegrityError } from '#lib/crypto/errors.ts';
import { LocalKeyring } from '#lib/crypto/local-keyring.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'arca-local-keyring-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const context = { vault: 'dev', kind: 'secret', name: 'api-token', version: 'a1' };
const plaintext = Buffer.from('local development token');

describe('LocalKeyring.fromFile', () => {
  it('creates a 32-byte key file readable only by its owner', () => {
    const path = join(dataDir, 'fresh', 'nested', 'master.key');
    LocalKeyring.fromFile(path);
    const stat = statSync(path);
    assert.equal(stat.size, 32);
    assert.equal(stat.mode & 0o777, 0o600);
  });

  it('reuses an existing key file instead of replacing it', () => {
    const path = join(dataDir, 'reused.key');
    LocalKeyring.fromFile(path);
    const before = readFileSync(path);
    LocalKeyring.fromFile(path);
    assert.deepEqual(readFileSync(path), before);
  });

  it('opens with a second instance what the first sealed, from the same file', async () => {
    const path = join(dataDir, 'shared.key');
    const sealed = await new Barrier(LocalKeyring.fromFile(path)).seal(plaintext, context);
    const reopened = new Barrier(LocalKeyring.fromFile(path));
    assert.deepEqual(await reopened.open(sealed, context), plaintext);
  });

  it('cannot unwrap a data key wrapped under another key file', async () => {
    const mine = LocalKeyring.fromFile(join(dataDir, 'mine.key'));
    const theirs = LocalKeyring.fromFile(join(dataDir, 'theirs.key'));
    const dataKey = await mine.generateDataKey(context);
    await assert.rejects(theirs.unwrapDataKey(dataKey.wrapped, context), CryptoIntegrityError);
    const sealed = await new Barrier(mine).seal(plaintext, context);
    await assert.rejects(new Barrier(theirs).open(sealed, context), CryptoIntegrityError);
  });

  it('refuses a key file that is not 32 bytes', () => {
    assert.throws(() => LocalKeyring.fromKey(randomBytes(16)), /32 bytes/);
  });
});

describe('LocalKeyring wrapping', () => {
  const keyring = LocalKeyring.fromKey(randomBytes(32));

  it('hands out 32-byte data keys that unwrap to the same bytes', async () => {
    const dataKey = await keyring.generateDataKey(context);
    assert.equal(dataKey.plaintext.length, 32);
    assert.deepEqual(await keyring.unwrapDataKey(dataKey.wrapped, context), dataKey.plaintext);
  });

  it('does not put the data key in the wrapped key', async () => {
    const dataKey = await keyring.generateDataKey(context);
    assert.equal(dataKey.wrapped.indexOf(dataKey.plaintext.subarray(0, 8)), -1);
  });

  it('unwraps only under the context the key was wrapped for', async () => {
    const dataKey = await keyring.generateDataKey(context);
    await assert.rejects(
      keyring.unwrapDataKey(dataKey.wrapped, { ...context, version: 'a2' }),
      CryptoIntegrityError,
    );
    await assert.rejects(
      keyring.unwrapDataKey(dataKey.wrapped, { ...context, extra: 'x' }),
      CryptoIntegrityError,
    );
  });

  it('does not depend on the order of the context keys', async () => {
    const dataKey = await keyring.generateDataKey({ a: '1', b: '2' });
    assert.deepEqual(await keyring.unwrapDataKey(dataKey.wrapped, { b: '2', a: '1' }), dataKey.plaintext);
  });

  it('throws CryptoIntegrityError for a malformed wrapped key', async () => {
    const { wrapped } = await keyring.generateDataKey(context);
    const wrongFormat = Buffer.from(wrapped);
    wrongFormat[0] = 2;
    const malformed = [
      Buffer.alloc(0),
      Buffer.from('not a wrapped key'),
      wrapped.subarray(0, 60),
      Buffer.concat([wrapped, Buffer.from([0])]),
      wrongFormat,
      Buffer.alloc(61),
    ];
    for (const candidate of malformed) {
      await assert.rejects(keyring.unwrapDataKey(candidate, context), CryptoIntegrityError);
    }
  });
});
