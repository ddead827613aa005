import { z } from 'zod';
import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeUpdateKeyRotationPolicy, rotationPolicyBundle } from '#lib/keys/rotation-policy.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

/**
 * The specification's KeyRotationPolicy as a request body. The read-only
 * members (id, attributes.created, attributes.updated) are accepted and
 * ignored, so a policy read with GET can be sent back as it is; the rules
 * (lib/keys/rotation-policy.ts) are checked after the shape.
 */
const duration = z.string().max(64).nullish();
const rotationPolicySchema = z.object({
  lifetimeActions: z
    .array(
      z.object({
        trigger: z.object({ timeAfterCreate: duration, timeBeforeExpiry: duration }).nullish(),
        action: z.object({ type: z.string().max(16).nullish() }).nullish(),
      }),
    )
    .max(16)
    .nullish(),
  attributes: z.object({ expiryTime: duration }).nullish(),
});

const updatePolicy = keyUseCase(makeUpdateKeyRotationPolicy);

export const handler = vaultOperation(keyRoutes, 'UpdateKeyRotationPolicy', async (request) => {
  const input = parseBody(rotationPolicySchema, request.body);
  const { name, stored } = await updatePolicy()(
    request.vault.name,
    request.params.name,
    input,
    request.audit.forChange(),
  );
  return ok(rotationPolicyBundle(request.vault.url, name, stored));
});
