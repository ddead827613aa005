import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeGetKeyRotationPolicy, rotationPolicyBundle } from '#lib/keys/rotation-policy.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const getPolicy = keyUseCase(makeGetKeyRotationPolicy);

export const handler = vaultOperation(keyRoutes, 'GetKeyRotationPolicy', async (request) => {
  const { name, stored } = await getPolicy()(request.vault.name, request.params.name);
  return ok(rotationPolicyBundle(request.vault.url, name, stored));
});
