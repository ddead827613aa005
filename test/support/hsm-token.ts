import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pkcs11KeyStore } from '#lib/keys/hsm/pkcs11-keystore.ts';
import { ck, ckrOf, type Pkcs11, type Pkcs11Handle, Pkcs11Session } from '#lib/keys/hsm/pkcs11-session.ts';
import { findSoftHsmModule } from '#lib/keys/hsm/softhsm-token.ts';
import { LOCAL_TOKEN_LABEL } from '#lib/local/local-hsm.ts';

const HANDLE = /^arca-[0-9a-f]{32}$/;

export interface TokenKey {
  /** The handle Arca stores (sealed): the objects' CKA_LABEL. */
  readonly handle: string;
  readonly class: 'private' | 'secret';
}

/**
 * The local vault's SoftHSM2 token ({dataDir}/softhsm, label 'arca-local'),
 * opened in a PKCS#11 session of its own, as an operator would: to look at
 * what the vault put there, never through the vault's code paths.
 */
export async function openFixtureToken(dataDir: string) {
  const pin = readFileSync(join(dataDir, 'softhsm', 'user-pin'), 'utf8').trim();
  const session = await Pkcs11Session.open({
    modulePath: findSoftHsmModule(),
    tokenLabel: LOCAL_TOKEN_LABEL,
    pin,
  });
  const store = new Pkcs11KeyStore(session);
  const run = <T>(fn: (p: Pkcs11, s: Pkcs11Handle) => T) => session.run((p, s) => fn(p, s));

  const find = (p: Pkcs11, s: Pkcs11Handle, template: { type: number; value: unknown }[]) => {
    p.C_FindObjectsInit(s, template as Parameters<Pkcs11['C_FindObjectsInit']>[1]);
    try {
      const found: Pkcs11Handle[] = [];
      for (;;) {
        const batch = p.C_FindObjects(s, 64);
        found.push(...batch);
        if (batch.length < 64) return found;
      }
    } finally {
      p.C_FindObjectsFinal(s);
    }
  };
  const label = (p: Pkcs11, s: Pkcs11Handle, o: Pkcs11Handle) =>
    String(p.C_GetAttributeValue(s, o, [{ type: ck.CKA_LABEL }])[0]?.value ?? '');

  return {
    session,
    store,
    /** Every private and secret key object of Arca's in the token (found by the label pattern). */
    keys: () =>
      run((p, s) => {
        const keys: TokenKey[] = [];
        for (const [cls, name] of [
          [ck.CKO_PRIVATE_KEY, 'private'],
          [ck.CKO_SECRET_KEY, 'secret'],
        ] as const) {
          for (const o of find(p, s, [
            { type: ck.CKA_TOKEN, value: true },
            { type: ck.CKA_CLASS, value: cls },
          ])) {
            const handle = label(p, s, o);
            if (HANDLE.test(handle)) keys.push({ handle, class: name });
          }
        }
        return keys;
      }),
    /** How many token objects (public, private or secret) carry this handle's label. */
    objectCount: (handle: string) =>
      run(
        (p, s) =>
          find(p, s, [
            { type: ck.CKA_TOKEN, value: true },
            { type: ck.CKA_LABEL, value: handle },
          ]).length,
      ),
    /** The handle whose RSA public object has this modulus (big-endian bytes). */
    handleOfModulus: (n: Uint8Array) =>
      run((p, s) => {
        for (const o of find(p, s, [
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_RSA },
        ])) {
          const modulus = p.C_GetAttributeValue(s, o, [{ type: ck.CKA_MODULUS }])[0]?.value as Buffer;
          if (Buffer.from(n).equals(stripZeros(modulus))) return label(p, s, o);
        }
        return undefined;
      }),
    /** The handle whose EC public object holds the point (x, y). */
    handleOfPoint: (x: Uint8Array, y: Uint8Array) =>
      run((p, s) => {
        const point = Buffer.concat([Buffer.from([4]), x, y]);
        for (const o of find(p, s, [
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_EC },
        ])) {
          const value = p.C_GetAttributeValue(s, o, [{ type: ck.CKA_EC_POINT }])[0]?.value as Buffer;
          if (value.subarray(value.length - point.length).equals(point)) return label(p, s, o);
        }
        return undefined;
      }),
    /**
     * Tries to read a sensitive attribute (CKA_VALUE, CKA_PRIVATE_EXPONENT …)
     * of the handle's private or secret key: the CKR code the token answers,
     * or 'readable' should it hand the value out.
     */
    readSecretAttribute: (handle: string, type: number) =>
      run((p, s) => {
        const [key] = [
          ...find(p, s, [
            { type: ck.CKA_LABEL, value: handle },
            { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
          ]),
          ...find(p, s, [
            { type: ck.CKA_LABEL, value: handle },
            { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          ]),
        ];
        if (key === undefined) return 'no key';
        try {
          const value = p.C_GetAttributeValue(s, key, [{ type }])[0]?.value;
          return Buffer.isBuffer(value) && value.length > 0 ? 'readable' : 'empty';
        } catch (error) {
          return ckrOf(error) ?? 'error';
        }
      }),
    /** See wrapUnderUntrustedKey. */
    wrapUnderUntrustedKey: (handle: string) => wrapUnderUntrustedKey(session, handle),
    /**
     * A token AES key of a value the test knows, labelled like Arca's, so the
     * keystore's AES mechanisms can be checked against node:crypto (the vault's
     * own oct-HSM keys cannot be: their value never leaves the token).
     */
    knownAesKey: (value: Buffer) =>
      run((p, s) => {
        const id = randomBytes(16);
        const handle = `arca-${id.toString('hex')}`;
        p.C_CreateObject(s, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_PRIVATE, value: true },
          { type: ck.CKA_ID, value: id },
          { type: ck.CKA_LABEL, value: handle },
          { type: ck.CKA_VALUE, value },
          { type: ck.CKA_ENCRYPT, value: true },
          { type: ck.CKA_DECRYPT, value: true },
          { type: ck.CKA_WRAP, value: true },
          { type: ck.CKA_UNWRAP, value: true },
        ]);
        return handle;
      }),
    close: () => session.close(),
  };
}

/**
 * Tries to wrap the handle's private or secret key under an AES key of this
 * session, which is not trusted: the CKR code the token answers, or 'wrapped'
 * should it let the key out.
 */
export function wrapUnderUntrustedKey(session: Pkcs11Session, handle: string): Promise<string> {
  return session.run((p, s) => {
    const [key] = [ck.CKO_PRIVATE_KEY, ck.CKO_SECRET_KEY].flatMap((cls) => {
      p.C_FindObjectsInit(s, [
        { type: ck.CKA_LABEL, value: handle },
        { type: ck.CKA_CLASS, value: cls },
      ]);
      try {
        return p.C_FindObjects(s, 1);
      } finally {
        p.C_FindObjectsFinal(s);
      }
    });
    if (key === undefined) return 'no key';
    const wrapping = p.C_GenerateKey(s, { mechanism: ck.CKM_AES_KEY_GEN }, [
      { type: ck.CKA_VALUE_LEN, value: 32 },
      { type: ck.CKA_TOKEN, value: false },
      { type: ck.CKA_WRAP, value: true },
    ]);
    try {
      p.C_WrapKey(s, { mechanism: ck.CKM_AES_KEY_WRAP_PAD }, wrapping, key, Buffer.alloc(8192));
      return 'wrapped';
    } catch (error) {
      return ckrOf(error) ?? 'error';
    } finally {
      p.C_DestroyObject(s, wrapping);
    }
  });
}

function stripZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}
