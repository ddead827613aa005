import { parseBody } from '#lib/http/body.ts';
import { ok } from '#lib/http/responses.ts';
import { keyRoutes } from '#lib/http/routes/key-routes.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';
import { makeImportKey } from '#lib/keys/import-key.ts';
import { keyBundle } from '#lib/keys/key-bundles.ts';
import { importKeySchema } from '#lib/keys/key-schemas.ts';
import { keyUseCase } from '#lib/runtime/keys.ts';

const importKey = keyUseCase(makeImportKey);

export const handler = vaultOperation(keyRoutes, 'ImportKey', async (request) => {
  const input = parseBody(importKeySchema, request.body);
  const key = await importKey()(
    { name: request.vault.name, sku: request.vault.record.sku },
    request.params.name,
    input,
    request.audit.forChange(),
  );
  return ok(keyBundle(request.vault, key));
});
