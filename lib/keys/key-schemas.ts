import { z } from 'zod';
import { tagsSchema } from '../secrets/secret-schemas.ts';

/**
 * Request bodies of the keys API (the specification's KeyCreateParameters,
 * KeyImportParameters, KeyUpdateParameters, KeyOperationsParameters,
 * KeySignParameters, KeyVerifyParameters, KeyRestoreParameters,
 * GetRandomBytesRequest). Values the operations interpret (kty, crv, alg,
 * key_ops) are checked where they are used, with messages that name them.
 */
const unixTime = z.number().int().min(0).max(253402300799);

/**
 * base64url, as Key Vault sends binary members (padding tolerated). A length
 * of 1 mod 4 is no encoding of whole bytes (Buffer.from would quietly drop
 * the odd character), so it is refused too.
 */
export const base64url = z
  .string()
  .max(1024 * 1024)
  .regex(/^[A-Za-z0-9_-]*={0,2}$/, { message: 'must be base64url' })
  .refine((s) => s.replace(/=+$/, '').length % 4 !== 1, { message: 'must be base64url' });

const keyAttributesSchema = z
  .object({
    enabled: z.boolean().nullish(),
    nbf: unixTime.nullish(),
    exp: unixTime.nullish(),
    exportable: z.boolean().nullish(),
  })
  .refine((a) => a.nbf == null || a.exp == null || a.nbf < a.exp, {
    message: 'nbf (not before) must be earlier than exp (expires)',
  })
  .refine((a) => a.exportable !== true, {
    message: 'exportable keys need a release policy, which Arca does not offer',
  });

const keyOpsSchema = z.array(z.string().max(32)).max(16);

export const createKeySchema = z.object({
  kty: z.string().max(16),
  key_size: z.number().int().nullish(),
  public_exponent: z.number().int().nullish(),
  key_ops: keyOpsSchema.nullish(),
  attributes: keyAttributesSchema.nullish(),
  tags: tagsSchema.nullish(),
  crv: z.string().max(16).nullish(),
  release_policy: z.unknown().optional(),
});

export const importKeySchema = z.object({
  Hsm: z.boolean().nullish(),
  key: z.record(z.string(), z.unknown()),
  attributes: keyAttributesSchema.nullish(),
  tags: tagsSchema.nullish(),
  release_policy: z.unknown().optional(),
});

export const updateKeySchema = z.object({
  key_ops: keyOpsSchema.nullish(),
  attributes: keyAttributesSchema.nullish(),
  tags: tagsSchema.nullish(),
  release_policy: z.unknown().optional(),
});

export const keyOperationSchema = z.object({
  alg: z.string().max(32),
  value: base64url,
  iv: base64url.nullish(),
  aad: base64url.nullish(),
  tag: base64url.nullish(),
});

export const signSchema = z.object({ alg: z.string().max(32), value: base64url });

export const verifySchema = z.object({ alg: z.string().max(32), digest: base64url, value: base64url });

export const restoreKeySchema = z.object({
  value: z
    .string()
    .min(1)
    .max(8 * 1024 * 1024)
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be base64url' }),
});

export const randomBytesSchema = z.object({ count: z.number().int().min(1).max(128) });

export type CreateKeyInput = z.infer<typeof createKeySchema>;
export type ImportKeyInput = z.infer<typeof importKeySchema>;
export type UpdateKeyInput = z.infer<typeof updateKeySchema>;
export type KeyOperationInput = z.infer<typeof keyOperationSchema>;
