import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type RawResponse, rawRequest } from '../support/https.ts';
import { assertPublicOnly, nodeEcKey, nodeRsaKey } from '../support/keys.ts';
import { localVaultFixture } from '../support/local-vault-fixture.ts';

const V = 'api-version=2025-07-01';
const b64u = (bytes: Buffer | Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha = (hash: string, text = 'message') => createHash(hash).update(text).digest();

/**
 * The keys API at the HTTP level, with what the SDK never sends: unknown
 * algorithms, digests of the wrong length, garbage ciphertext and base64url,
 * unsupported curves, sizes and types, key_ops a type cannot have, malformed
 * JSON; unknown keys; key_ops, disabled, expired and not-yet-valid keys. Every
 * refusal is a KeyVaultError with the right status and code, never a 500, and
 * never quotes key material or data.
 */
describe('the keys API at the HTTP level', () => {
  let fixture: Awaited<ReturnType<typeof localVaultFixture>>;
  let base: string;
  let auth: Record<string, string>;
  /** Every error body seen, to check none quotes key material. */
  const errors: string[] = [];

  before(async () => {
    fixture = await localVaultFixture();
    base = fixture.info.vaultUrl;
    auth = { authorization: `Bearer ${await fixture.token()}`, 'content-type': 'application/json' };
  });
  after(() => fixture.close());

  const call = (method: string, path: string, body?: unknown): Promise<RawResponse> =>
    rawRequest(`${base}${path}${path.includes('?') ? '&' : '?'}${V}`, {
      method,
      headers: auth,
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  /** Asserts a KeyVaultError body of this status and code (never a 500); returns its message. */
  function refused(res: RawResponse, status: number, code: string, what = ''): string {
    assert.notEqual(res.status, 500, `${what}: ${res.text}`);
    assert.equal(res.status, status, `${what}: ${res.text}`);
    const body = res.json();
    assert.equal(body.error?.code, code, what);
    assert.equal(typeof body.error.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.ok(!/at .+\.ts:\d+/.test(res.text), 'no stack trace');
    errors.push(res.text);
    return body.error.message;
  }

  const ok = (res: RawResponse, what = '') => {
    assert.equal(res.status, 200, `${what}: ${res.text}`);
    return res.json();
  };

  const create = async (name: string, body: unknown) => {
    const key = ok(await call('POST', `/keys/${name}/create`, body), name);
    assertPublicOnly(key.key, name);
    return key;
  };

  const op = (kid: string, operation: string, body: unknown) =>
    rawRequest(`${kid}/${operation}?${V}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  /** node:crypto's public key of an RSA JWK as the API answers it (n and e only). */
  const rsaPublic = (jwk: { n: string; e: string }) =>
    createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });

  it('refuses unknown algorithms, and algorithms of another key type, with 400', async () => {
    const rsa = await create('alg-rsa', { kty: 'RSA', key_size: 2048 });
    const ec = await create('alg-ec', { kty: 'EC', crv: 'P-256' });
    const rsaHsm = await create('alg-rsa-hsm', { kty: 'RSA-HSM', key_size: 2048 });
    const oct = await create('alg-oct', { kty: 'oct-HSM', key_size: 256 });
    const digest = b64u(sha('sha256'));
    const data = b64u(randomBytes(32));
    for (const kid of [rsa.key.kid, rsaHsm.key.kid, oct.key.kid]) {
      for (const operation of ['encrypt', 'decrypt', 'wrapkey', 'unwrapkey']) {
        for (const alg of ['RSA-OAEP-512', 'rsa-oaep', 'none', '', 'A128CBC', 'RSNULL']) {
          refused(await op(kid, operation, { alg, value: data }), 400, 'BadParameter', `${operation} ${alg}`);
        }
      }
    }
    for (const kid of [rsa.key.kid, rsaHsm.key.kid, ec.key.kid]) {
      for (const alg of ['ES999', 'HS256', 'RSNULL', 'EdDSA']) {
        refused(await op(kid, 'sign', { alg, value: digest }), 400, 'BadParameter', alg);
        refused(
          await op(kid, 'verify', { alg, digest, value: b64u(randomBytes(64)) }),
          400,
          'BadParameter',
          alg,
        );
      }
    }
    // Known algorithms, but not for this key.
    for (const [kid, operation, alg, value] of [
      [rsa.key.kid, 'sign', 'ES256', digest],
      [rsaHsm.key.kid, 'sign', 'ES256', digest],
      [ec.key.kid, 'sign', 'RS256', digest],
      [ec.key.kid, 'sign', 'ES384', b64u(sha('sha384'))],
      [ec.key.kid, 'sign', 'ES256K', digest],
      [rsa.key.kid, 'encrypt', 'A256GCM', data],
      [rsa.key.kid, 'wrapkey', 'A256KW', data],
      [rsaHsm.key.kid, 'encrypt', 'A256GCM', data],
      [oct.key.kid, 'encrypt', 'RSA-OAEP', data],
      [oct.key.kid, 'wrapkey', 'A128KW', data],
      [oct.key.kid, 'encrypt', 'A192GCM', data],
      [oct.key.kid, 'wrapkey', 'A256GCM', data],
    ]) {
      refused(await op(kid, operation as string, { alg, value }), 400, 'BadParameter', `${operation} ${alg}`);
    }
    for (const alg of [5, null, ['RS256'], 'x'.repeat(40)]) {
      refused(await op(rsa.key.kid, 'sign', { alg, value: digest }), 400, 'BadParameter', String(alg));
    }
  });

  it('refuses digests of the wrong length with 400, on both tiers', async () => {
    const keys = [
      (await create('digest-rsa', { kty: 'RSA' })).key.kid,
      (await create('digest-rsa-hsm', { kty: 'RSA-HSM' })).key.kid,
    ];
    const ecKeys = [
      (await create('digest-ec', { kty: 'EC', crv: 'P-384' })).key.kid,
      (await create('digest-ec-hsm', { kty: 'EC-HSM', crv: 'P-384' })).key.kid,
    ];
    for (const kid of keys) {
      for (const [alg, length] of [
        ['RS256', 31],
        ['RS256', 33],
        ['RS256', 48],
        ['PS384', 32],
        ['RS512', 0],
        ['PS512', 65],
      ] as const) {
        const value = b64u(randomBytes(length));
        refused(await op(kid, 'sign', { alg, value }), 400, 'BadParameter', `sign ${alg} ${length}`);
        const signature = b64u(randomBytes(256));
        refused(await op(kid, 'verify', { alg, digest: value, value: signature }), 400, 'BadParameter');
      }
    }
    for (const kid of ecKeys) {
      for (const length of [32, 64, 47, 0]) {
        refused(
          await op(kid, 'sign', { alg: 'ES384', value: b64u(randomBytes(length)) }),
          400,
          'BadParameter',
        );
      }
    }
  });

  it('refuses garbage ciphertext, wrapped keys, tags and ivs with 400, on both tiers', async () => {
    const rsaJwk = (await create('garbage-rsa', { kty: 'RSA' })).key;
    const rsa = rsaJwk.kid;
    const rsaHsm = (await create('garbage-rsa-hsm', { kty: 'RSA-HSM' })).key.kid;
    const oct = (await create('garbage-oct', { kty: 'oct-HSM', key_size: 128 })).key.kid;
    for (const kid of [rsa, rsaHsm]) {
      for (const alg of ['RSA-OAEP', 'RSA-OAEP-256']) {
        for (const value of [
          randomBytes(256),
          randomBytes(10),
          randomBytes(300),
          Buffer.alloc(256),
          Buffer.alloc(0),
        ]) {
          refused(
            await op(kid, 'decrypt', { alg, value: b64u(value) }),
            400,
            'BadParameter',
            `${alg} ${value.length}`,
          );
          refused(await op(kid, 'unwrapkey', { alg, value: b64u(value) }), 400, 'BadParameter');
        }
      }
      // Too long to encrypt under the key.
      refused(
        await op(kid, 'encrypt', { alg: 'RSA-OAEP-256', value: b64u(randomBytes(200)) }),
        400,
        'BadParameter',
      );
      refused(
        await op(kid, 'wrapkey', { alg: 'RSA1_5', value: b64u(randomBytes(250)) }),
        400,
        'BadParameter',
      );
    }
    // RSA1_5 decryption of garbage in the HSM: implicit rejection too, a synthetic plaintext, the same each time.
    const hsmGarbage = b64u(randomBytes(256).fill(0, 0, 1));
    const hsmSynthetic = ok(await op(rsaHsm, 'decrypt', { alg: 'RSA1_5', value: hsmGarbage }), 'hsm').value;
    assert.equal(typeof hsmSynthetic, 'string');
    assert.equal(
      ok(await op(rsaHsm, 'decrypt', { alg: 'RSA1_5', value: hsmGarbage }), 'hsm again').value,
      hsmSynthetic,
    );
    // Software keys decrypt RSA1_5 with implicit rejection (as OpenSSL >= 3.2): what node encrypts comes
    // back; garbage of the right length (below the modulus) is not an error but a synthetic plaintext, the
    // same each time; a wrong length, or a value not below the modulus, is still a 400.
    const secret = randomBytes(32);
    const pkcs1v15 = publicEncrypt({ key: rsaPublic(rsaJwk), padding: constants.RSA_PKCS1_PADDING }, secret);
    for (const operation of ['decrypt', 'unwrapkey']) {
      const opened = ok(await op(rsa, operation, { alg: 'RSA1_5', value: b64u(pkcs1v15) }), operation);
      assert.ok(Buffer.from(opened.value, 'base64url').equals(secret), `RSA1_5 ${operation}`);
    }
    const garbage = b64u(randomBytes(256).fill(0, 0, 1));
    const synthetic = ok(await op(rsa, 'decrypt', { alg: 'RSA1_5', value: garbage }), 'garbage').value;
    assert.equal(typeof synthetic, 'string');
    assert.equal(ok(await op(rsa, 'decrypt', { alg: 'RSA1_5', value: garbage }), 'again').value, synthetic);
    assert.equal(
      ok(await op(rsa, 'unwrapkey', { alg: 'RSA1_5', value: garbage }), 'unwrap').value,
      synthetic,
    );
    for (const value of [randomBytes(255), randomBytes(257), Buffer.alloc(0), Buffer.alloc(256, 0xff)]) {
      for (const operation of ['decrypt', 'unwrapkey']) {
        refused(
          await op(rsa, operation, { alg: 'RSA1_5', value: b64u(value) }),
          400,
          'BadParameter',
          `RSA1_5 ${operation} ${value.length}`,
        );
      }
    }

    for (const value of [
      randomBytes(24),
      randomBytes(40),
      randomBytes(7),
      randomBytes(25),
      Buffer.alloc(0),
    ]) {
      refused(
        await op(oct, 'unwrapkey', { alg: 'A128KW', value: b64u(value) }),
        400,
        'BadParameter',
        `${value.length}`,
      );
    }
    for (const value of [randomBytes(8), randomBytes(15), randomBytes(17), Buffer.alloc(0)]) {
      refused(
        await op(oct, 'wrapkey', { alg: 'A128KW', value: b64u(value) }),
        400,
        'BadParameter',
        `wrap ${value.length}`,
      );
    }
    const sealed = ok(
      await op(oct, 'encrypt', {
        alg: 'A128GCM',
        value: b64u(Buffer.from('gcm')),
        aad: b64u(Buffer.from('a')),
      }),
    );
    assert.equal(Buffer.from(sealed.iv, 'base64url').length, 12);
    assert.equal(Buffer.from(sealed.tag, 'base64url').length, 16);
    assert.equal(sealed.aad, b64u(Buffer.from('a')));
    const opened = ok(
      await op(oct, 'decrypt', {
        alg: 'A128GCM',
        value: sealed.value,
        iv: sealed.iv,
        tag: sealed.tag,
        aad: sealed.aad,
      }),
    );
    assert.equal(Buffer.from(opened.value, 'base64url').toString(), 'gcm');
    for (const bad of [
      { iv: sealed.iv },
      { tag: sealed.tag },
      { iv: sealed.iv, tag: b64u(randomBytes(16)), aad: sealed.aad },
      { iv: b64u(randomBytes(12)), tag: sealed.tag, aad: sealed.aad },
      { iv: sealed.iv, tag: sealed.tag },
      { iv: b64u(randomBytes(16)), tag: sealed.tag, aad: sealed.aad },
      { iv: sealed.iv, tag: b64u(randomBytes(8)), aad: sealed.aad },
    ]) {
      refused(await op(oct, 'decrypt', { alg: 'A128GCM', value: sealed.value, ...bad }), 400, 'BadParameter');
    }
    refused(
      await op(oct, 'encrypt', { alg: 'A128GCM', value: sealed.value, iv: b64u(randomBytes(7)) }),
      400,
      'BadParameter',
    );
  });

  it('refuses values that are not base64url with 400', async () => {
    const rsa = (await create('b64-rsa', { kty: 'RSA' })).key.kid;
    for (const value of ['###', 'ab+/cd', 'a b', 'abc=d', 'a', 'abcde', 5, null, { x: 1 }]) {
      refused(await op(rsa, 'decrypt', { alg: 'RSA-OAEP', value }), 400, 'BadParameter', String(value));
      refused(await op(rsa, 'sign', { alg: 'RS256', value }), 400, 'BadParameter', String(value));
      refused(await op(rsa, 'verify', { alg: 'RS256', digest: value, value: 'AAAA' }), 400, 'BadParameter');
    }
    refused(await op(rsa, 'encrypt', { alg: 'RSA-OAEP' }), 400, 'BadParameter', 'no value');
    refused(await call('POST', '/keys/restore', { value: 'not+base64/url' }), 400, 'BadParameter');
    refused(
      await call('POST', '/keys/restore', { value: b64u(Buffer.from('{"format":"x"}')) }),
      400,
      'BadParameter',
    );
  });

  it('refuses unsupported curves, sizes, exponents and key types with 400, making nothing', async () => {
    const bodies: unknown[] = [
      { kty: 'EC', crv: 'P-192' },
      { kty: 'EC', crv: 'secp256k1' },
      { kty: 'EC', crv: 'Ed25519' },
      { kty: 'EC', crv: 'p-256' },
      { kty: 'EC-HSM', crv: 'P-224' },
      { kty: 'EC-HSM', crv: 'X25519' },
      { kty: 'RSA', key_size: 1024 },
      { kty: 'RSA', key_size: 2047 },
      { kty: 'RSA', key_size: 8192 },
      { kty: 'RSA-HSM', key_size: 1024 },
      { kty: 'RSA-HSM', key_size: 5000 },
      { kty: 'RSA', public_exponent: 3 },
      { kty: 'RSA-HSM', public_exponent: 17 },
      { kty: 'oct-HSM', key_size: 512 },
      { kty: 'oct-HSM', key_size: 64 },
      { kty: 'oct' },
      { kty: 'OKP' },
      { kty: 'DSA' },
      { kty: 'rsa' },
      { kty: '' },
      { kty: 'RSA', key_size: 'big' },
      { kty: 5 },
      {},
      { kty: 'RSA', attributes: { nbf: 2000, exp: 1000 } },
      { kty: 'RSA', attributes: { exportable: true } },
      { kty: 'RSA', release_policy: { data: 'e30' } },
    ];
    for (const body of bodies) {
      refused(
        await call('POST', '/keys/unsupported/create', body),
        400,
        'BadParameter',
        JSON.stringify(body),
      );
    }
    refused(await call('GET', '/keys/unsupported'), 404, 'KeyNotFound', 'nothing was made');
  });

  it('refuses key_ops that the key type cannot have, at create, import and update', async () => {
    for (const body of [
      { kty: 'EC', key_ops: ['encrypt'] },
      { kty: 'EC', key_ops: ['sign', 'wrapKey'] },
      { kty: 'EC-HSM', key_ops: ['decrypt'] },
      { kty: 'oct-HSM', key_ops: ['sign'] },
      { kty: 'RSA', key_ops: ['frobnicate'] },
      { kty: 'RSA', key_ops: ['import'] },
      { kty: 'RSA', key_ops: 'sign' },
      { kty: 'RSA', key_ops: [5] },
    ]) {
      refused(await call('POST', '/keys/bad-ops/create', body), 400, 'BadParameter', JSON.stringify(body));
    }
    const ec = nodeEcKey('P-256');
    for (const key_ops of [['encrypt'], 'verify', [1]]) {
      refused(await call('PUT', '/keys/bad-ops', { key: { ...ec.jwk, key_ops } }), 400, 'BadParameter');
    }
    const made = await create('good-ops', { kty: 'EC', key_ops: ['verify', 'verify'] });
    assert.deepEqual(made.key.key_ops, ['verify']);
    refused(await call('PATCH', '/keys/good-ops/', { key_ops: ['unwrapKey'] }), 400, 'BadParameter');
    refused(await call('GET', '/keys/bad-ops'), 404, 'KeyNotFound');
  });

  it('refuses malformed and wrongly typed bodies with 400', async () => {
    await create('json-target', { kty: 'RSA' });
    const kid = (await call('GET', '/keys/json-target')).json().key.kid;
    for (const [method, path] of [
      ['POST', '/keys/json/create'],
      ['PUT', '/keys/json'],
      ['PATCH', '/keys/json-target/'],
      ['POST', '/keys/restore'],
      ['POST', '/rng'],
    ]) {
      for (const body of ['{"kty": ', 'not json', '[]', 'null', '"RSA"', '']) {
        refused(
          await call(method as string, path as string, body),
          400,
          'BadParameter',
          `${method} ${path} ${body}`,
        );
      }
    }
    for (const operation of ['encrypt', 'decrypt', 'sign', 'verify', 'wrapkey', 'unwrapkey']) {
      for (const body of ['{', '[]', '', '{"alg":"RS256"}']) {
        refused(
          await rawRequest(`${kid}/${operation}?${V}`, { method: 'POST', headers: auth, body }),
          400,
          'BadParameter',
          `${operation} ${body}`,
        );
      }
    }
    for (const count of [0, 129, -1, 1.5, '8', null]) {
      refused(await call('POST', '/rng', { count }), 400, 'BadParameter', String(count));
    }
    assert.equal(Buffer.from(ok(await call('POST', '/rng', { count: 7 })).value, 'base64url').length, 7);
  });

  it('refuses an update that would close the validity window before it opens', async () => {
    const now = Math.floor(Date.now() / 1000);
    await create('window', { kty: 'EC', attributes: { nbf: now + 1000 } });
    refused(await call('PATCH', '/keys/window/', { attributes: { exp: now + 10 } }), 400, 'BadParameter');
    refused(
      await call('PATCH', '/keys/window/', { attributes: { nbf: now + 20, exp: now + 10 } }),
      400,
      'BadParameter',
    );
    assert.equal(ok(await call('GET', '/keys/window')).attributes.exp, undefined, 'nothing was changed');
    const moved = ok(await call('PATCH', '/keys/window/', { attributes: { nbf: null, exp: now + 10 } }));
    assert.equal(moved.attributes.nbf, undefined);
    assert.equal(moved.attributes.exp, now + 10);
  });

  it('imports into the HSM (Hsm: true, or an -HSM kty) and refuses bad JWKs with 400', async () => {
    const rsa = nodeRsaKey(2048);
    const hsm = ok(await call('PUT', '/keys/import-hsm', { key: rsa.jwk, Hsm: true }));
    assert.equal(hsm.key.kty, 'RSA-HSM');
    assertPublicOnly(hsm.key);
    assert.equal(
      ok(await call('PUT', '/keys/import-hsm', { key: { ...rsa.jwk, kty: 'RSA-HSM' } })).key.kty,
      'RSA-HSM',
    );
    refused(
      await call('PUT', '/keys/import-hsm', { key: { kty: 'oct', k: b64u(randomBytes(20)) }, Hsm: true }),
      400,
      'BadParameter',
    );
    const { d: _d, ...withoutD } = rsa.jwk;
    for (const key of [
      withoutD,
      { ...rsa.jwk, n: 'AQAB' },
      { ...rsa.jwk, kty: 'oct', k: b64u(randomBytes(32)) },
      { kty: 'EC', crv: 'P-192', x: 'AA', y: 'AA', d: 'AA' },
      { ...nodeEcKey('P-256').jwk, crv: 'P-384' },
      { ...rsa.jwk, e: 5 },
      { ...rsa.jwk, p: '###' },
      { kty: 'OKP', crv: 'Ed25519', x: 'AA', d: 'AA' },
      {},
    ]) {
      refused(
        await call('PUT', '/keys/import-bad', { key }),
        400,
        'BadParameter',
        JSON.stringify(key).slice(0, 40),
      );
    }
    refused(await call('PUT', '/keys/import-bad', { key: 'RSA' }), 400, 'BadParameter');
    refused(await call('GET', '/keys/import-bad'), 404, 'KeyNotFound');
    const imported = ok(await call('PUT', '/keys/import-good', { key: rsa.jwk, Hsm: false }));
    assertPublicOnly(imported.key);
    assert.equal(imported.key.n, rsa.jwk.n);
  });

  it('answers 404 KeyNotFound for unknown keys and versions, and for keys that are deleted', async () => {
    const unknownVersion = '0123456789abcdef0123456789abcdef';
    const digest = b64u(sha('sha256'));
    const cases: [string, string, unknown?][] = [
      ['GET', '/keys/nope'],
      ['GET', '/keys/nope/'],
      ['GET', `/keys/nope/${unknownVersion}`],
      ['GET', '/keys/nope/versions'],
      ['PATCH', '/keys/nope/', { tags: {} }],
      ['DELETE', '/keys/nope'],
      ['POST', '/keys/nope/backup'],
      ['POST', '/keys/nope/rotate'],
      [
        'POST',
        '/keys/nope//encrypt'.replace('//', `/${unknownVersion}/`),
        { alg: 'RSA-OAEP', value: 'AAAA' },
      ],
      ['POST', `/keys/nope/${unknownVersion}/sign`, { alg: 'RS256', value: digest }],
      ['GET', '/deletedkeys/nope'],
      ['POST', '/deletedkeys/nope/recover'],
      ['DELETE', '/deletedkeys/nope'],
      ['GET', '/keys/bad_name'],
      ['GET', `/keys/${'x'.repeat(128)}`],
    ];
    const existing = await create('found', { kty: 'RSA' });
    cases.push(['GET', `/keys/found/${unknownVersion}`]);
    cases.push(['POST', `/keys/found/${unknownVersion}/sign`, { alg: 'RS256', value: digest }]);
    cases.push(['PATCH', `/keys/found/${unknownVersion}`, { tags: {} }]);
    cases.push(['GET', '/keys/found/not-a-version']);
    for (const [method, path, body] of cases) {
      refused(await call(method, path, body), 404, 'KeyNotFound', `${method} ${path}`);
    }
    ok(await call('DELETE', '/keys/found'));
    for (const [method, path, body] of [
      ['GET', '/keys/found'],
      ['GET', '/keys/found/versions'],
      ['POST', `${new URL(existing.key.kid).pathname}/sign`, { alg: 'RS256', value: digest }],
      ['PATCH', '/keys/found/', { tags: {} }],
      ['POST', '/keys/found/rotate'],
      ['POST', '/keys/found/backup'],
    ] as [string, string, unknown?][]) {
      refused(await call(method, path, body), 404, 'KeyNotFound', `deleted: ${method} ${path}`);
    }
    refused(await call('POST', '/keys/found/create', { kty: 'RSA' }), 409, 'Conflict');
    for (const name of ['bad_name', 'dots.not.allowed', 'x'.repeat(128)]) {
      refused(await call('POST', `/keys/${name}/create`, { kty: 'RSA' }), 400, 'BadParameter', name);
    }
  });

  it('refuses operations that are not in the key_ops with 400, whatever the tier', async () => {
    for (const kty of ['RSA', 'RSA-HSM']) {
      const key = await create(`ops-${kty}`, { kty, key_ops: ['sign', 'verify'] });
      const kid = key.key.kid;
      const ciphertext = b64u(publicEncrypt(rsaPublic(key.key), Buffer.from('x')));
      for (const [operation, body] of [
        ['encrypt', { alg: 'RSA-OAEP', value: 'AAAA' }],
        ['decrypt', { alg: 'RSA-OAEP', value: ciphertext }],
        ['wrapkey', { alg: 'RSA-OAEP', value: b64u(randomBytes(32)) }],
        ['unwrapkey', { alg: 'RSA-OAEP', value: ciphertext }],
      ] as const) {
        const message = refused(await op(kid, operation, body), 400, 'BadParameter', `${kty} ${operation}`);
        assert.match(message, /key_ops/);
      }
      ok(await op(kid, 'sign', { alg: 'RS256', value: b64u(sha('sha256')) }));
      // key_ops updated to encrypt only: signing is refused from then on, verifying too.
      ok(await call('PATCH', `/keys/ops-${kty}/`, { key_ops: ['encrypt', 'decrypt'] }));
      refused(await op(kid, 'sign', { alg: 'RS256', value: b64u(sha('sha256')) }), 400, 'BadParameter');
      refused(
        await op(kid, 'verify', { alg: 'RS256', digest: b64u(sha('sha256')), value: b64u(randomBytes(256)) }),
        400,
        'BadParameter',
      );
      ok(await op(kid, 'decrypt', { alg: 'RSA-OAEP', value: ciphertext }));
    }
  });

  it('refuses every operation on a disabled key with 403, and still shows the key', async () => {
    for (const kty of ['RSA', 'RSA-HSM']) {
      const name = `disabled-${kty}`;
      const key = await create(name, { kty });
      const kid = key.key.kid;
      const digest = b64u(sha('sha256'));
      const signature = ok(await op(kid, 'sign', { alg: 'RS256', value: digest })).value;
      const ciphertext = b64u(publicEncrypt(rsaPublic(key.key), Buffer.from('x')));
      ok(await call('PATCH', `/keys/${name}/`, { attributes: { enabled: false } }));
      for (const [operation, body] of [
        ['encrypt', { alg: 'RSA-OAEP', value: 'AAAA' }],
        ['decrypt', { alg: 'RSA-OAEP', value: ciphertext }],
        ['wrapkey', { alg: 'RSA-OAEP-256', value: b64u(randomBytes(32)) }],
        ['unwrapkey', { alg: 'RSA-OAEP', value: ciphertext }],
        ['sign', { alg: 'RS256', value: digest }],
        ['verify', { alg: 'RS256', digest, value: signature }],
      ] as const) {
        const res = await op(kid, operation, body);
        const message = refused(res, 403, 'Forbidden', `${kty} ${operation}`);
        assert.match(message, /disabled/);
        assert.equal(res.json().error.innererror?.code, 'KeyDisabled');
      }
      const shown = ok(await call('GET', `/keys/${name}`));
      assert.equal(shown.attributes.enabled, false);
      assertPublicOnly(shown.key);
      ok(await call('PATCH', `/keys/${name}/`, { attributes: { enabled: true } }));
      assert.equal(ok(await op(kid, 'verify', { alg: 'RS256', digest, value: signature })).value, true);
    }
  });

  it('expired and not-yet-valid keys refuse encrypt, wrapKey and sign with 403, but still decrypt, unwrap and verify', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const kty of ['RSA', 'RSA-HSM']) {
      const states: [string, { nbf: number; exp?: number }][] = [
        ['expired', { nbf: now - 7200, exp: now - 3600 }],
        ['not-yet-valid', { nbf: now + 3600 }],
      ];
      for (const [state, attributes] of states) {
        const name = `${state}-${kty}`;
        const key = await create(name, { kty });
        const kid = key.key.kid;
        const digest = b64u(sha('sha384'));
        const signature = ok(await op(kid, 'sign', { alg: 'PS384', value: digest })).value;
        const secret = randomBytes(32);
        const ciphertext = b64u(
          publicEncrypt(
            { key: rsaPublic(key.key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
            secret,
          ),
        );
        const updated = ok(await call('PATCH', `/keys/${name}/`, { attributes }));
        assert.equal(updated.attributes.exp, attributes.exp);
        assert.equal(updated.attributes.nbf, attributes.nbf);
        for (const [operation, body] of [
          ['encrypt', { alg: 'RSA-OAEP', value: 'AAAA' }],
          ['wrapkey', { alg: 'RSA-OAEP-256', value: b64u(randomBytes(32)) }],
          ['sign', { alg: 'PS384', value: digest }],
        ] as const) {
          const res = await op(kid, operation, body);
          refused(res, 403, 'Forbidden', `${state} ${kty} ${operation}`);
          assert.equal(
            res.json().error.innererror?.code,
            state === 'expired' ? 'KeyExpired' : 'KeyNotYetValid',
          );
        }
        const decrypted = ok(await op(kid, 'decrypt', { alg: 'RSA-OAEP-256', value: ciphertext }));
        assert.deepEqual(Buffer.from(decrypted.value, 'base64url'), secret);
        const unwrapped = ok(await op(kid, 'unwrapkey', { alg: 'RSA-OAEP-256', value: ciphertext }));
        assert.deepEqual(Buffer.from(unwrapped.value, 'base64url'), secret);
        assert.equal(ok(await op(kid, 'verify', { alg: 'PS384', digest, value: signature })).value, true);
      }
    }
    const ec = nodeEcKey('P-256');
    const imported = ok(
      await call('PUT', '/keys/expired-ec', { key: ec.jwk, attributes: { exp: now - 60 } }),
    );
    const message = Buffer.from('made while valid');
    const nodeSignature = sign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const verified = ok(
      await op(imported.key.kid, 'verify', {
        alg: 'ES256',
        digest: b64u(sha('sha256', message.toString())),
        value: b64u(nodeSignature),
      }),
    );
    assert.equal(verified.value, true);
    refused(
      await op(imported.key.kid, 'sign', { alg: 'ES256', value: b64u(sha('sha256')) }),
      403,
      'Forbidden',
    );
  });

  it('serves the latest version on an empty version segment, and answers with public JWKs only', async () => {
    const first = await create('trailing', { kty: 'EC', crv: 'P-521' });
    const second = await create('trailing', { kty: 'EC', crv: 'P-521' });
    const latest = ok(await call('GET', '/keys/trailing/'));
    assert.equal(latest.key.kid, second.key.kid);
    assertPublicOnly(latest.key);
    const signed = ok(
      await call('POST', '/keys/trailing//sign'.replace('//', `/${first.key.kid.split('/').pop()}/`), {
        alg: 'ES512',
        value: b64u(sha('sha512')),
      }),
    );
    assert.equal(signed.kid, first.key.kid, 'the kid names the version that did the work');
    const patched = ok(await call('PATCH', '/keys/trailing/', { tags: { t: '1' } }));
    assert.equal(patched.key.kid, second.key.kid);
    for (const path of ['/keys', '/keys/trailing/versions', '/deletedkeys']) {
      const listed = ok(await call('GET', path));
      for (const item of listed.value) assert.equal(item.key, undefined, `${path} lists no JWK`);
    }
  });

  it('never puts key material, plaintext or digests in an error message', async () => {
    const canary = Buffer.from('canary-canary-canary-canary-1234');
    const rsa = nodeRsaKey(2048);
    const other = nodeRsaKey(2048);
    const secretMembers = [rsa, other].flatMap((k) =>
      ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => (k.jwk as Record<string, string>)[m] as string),
    );
    refused(await call('PUT', '/keys/leak', { key: { ...rsa.jwk, d: other.jwk.d } }), 400, 'BadParameter');
    refused(await call('PUT', '/keys/leak', { key: { ...rsa.jwk, qi: b64u(canary) } }), 400, 'BadParameter');
    refused(await call('PUT', '/keys/leak', { key: { ...rsa.jwk, n: b64u(canary) } }), 400, 'BadParameter');
    refused(
      await call('PUT', '/keys/leak', {
        key: { kty: 'EC', crv: 'P-256', x: b64u(canary), y: b64u(canary), d: b64u(canary) },
      }),
      400,
      'BadParameter',
    );
    const key = (await create('leak-target', { kty: 'RSA' })).key.kid;
    refused(
      await op(key, 'encrypt', { alg: 'RSA-OAEP', value: b64u(Buffer.concat(Array(10).fill(canary))) }),
      400,
      'BadParameter',
    );
    refused(
      await op(key, 'decrypt', { alg: 'RSA-OAEP', value: b64u(Buffer.concat(Array(8).fill(canary))) }),
      400,
      'BadParameter',
    );
    refused(
      await op(key, 'sign', { alg: 'RS256', value: b64u(Buffer.concat([canary, canary.subarray(0, 4)])) }),
      400,
      'BadParameter',
    );
    const oct = (await create('leak-oct', { kty: 'oct-HSM' })).key.kid;
    refused(
      await op(oct, 'unwrapkey', {
        alg: 'A256KW',
        value: b64u(Buffer.concat([canary, canary.subarray(0, 8)])),
      }),
      400,
      'BadParameter',
    );
    refused(
      await op(oct, 'decrypt', {
        alg: 'A256GCM',
        value: b64u(canary),
        iv: b64u(canary.subarray(0, 12)),
        tag: b64u(canary.subarray(0, 16)),
      }),
      400,
      'BadParameter',
    );
    const all = errors.join('\n');
    assert.ok(errors.length > 100, `collected ${errors.length} refusals`);
    for (const needle of [canary.toString(), b64u(canary), b64u(canary.subarray(0, 12)), ...secretMembers]) {
      assert.ok(!all.includes(needle), 'an error quoted data or key material');
    }
    assert.ok(!/-----BEGIN|PRIVATE KEY|CKR_[A-Z_]+_SENSITIVE/.test(all));
  });
});
