import { z } from 'zod';
import { MAX_SECRET_VALUE_BYTES } from './model.ts';

const unixTime = z.number().int().min(0).max(253402300799);

/** Azure's limits: 15 tags, names up to 512 characters, values up to 256. */
export const tagsSchema = z
  .record(z.string().min(1).max(512), z.string().max(256))
  .refine((tags) => Object.keys(tags).length <= 15, { message: 'at most 15 tags are allowed' });

const attributesSchema = z
  .object({ enabled: z.boolean().optional(), nbf: unixTime.nullish(), exp: unixTime.nullish() })
  .refine((a) => a.nbf == null || a.exp == null || a.nbf < a.exp, {
    message: 'nbf (not before) must be earlier than exp (expires)',
  });

export const setSecretSchema = z.object({
  value: z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_SECRET_VALUE_BYTES, {
    message: `a secret value may be at most ${MAX_SECRET_VALUE_BYTES} bytes (25 KiB) in UTF-8`,
  }),
  tags: tagsSchema.nullish(),
  contentType: z.string().max(255).nullish(),
  attributes: attributesSchema.nullish(),
});

export const updateSecretSchema = z.object({
  tags: tagsSchema.nullish(),
  contentType: z.string().max(255).nullish(),
  attributes: attributesSchema.nullish(),
});

export const restoreSecretSchema = z.object({
  value: z
    .string()
    .min(1)
    .max(8 * 1024 * 1024)
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be base64url' }),
});

export type SetSecretInput = z.infer<typeof setSecretSchema>;
export type UpdateSecretInput = z.infer<typeof updateSecretSchema>;
