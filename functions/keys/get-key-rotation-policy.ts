import { ServiceUnavailableError } from '#lib/errors.ts';
import { vaultOperation } from '#lib/http/vault-operation.ts';

// Being written (rotation policy): replaced before this lands.
export const handler = vaultOperation('GetKeyRotationPolicy', async () => {
  throw new ServiceUnavailableError('not yet');
});
