import { ServiceUnavailableError } from '#lib/errors.ts';
import { managementOperation } from '#lib/http/management-operation.ts';

// Being written (HSM health): replaced before this lands.
export const handler = managementOperation('HsmHealth_Get', async () => {
  throw new ServiceUnavailableError('not yet');
});
