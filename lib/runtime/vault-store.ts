import { DynamoVaultStore } from '../store/dynamo-vault-store.ts';
import { container } from './container.ts';

let store: DynamoVaultStore | undefined;

/** The container's vault store (writes commit their audit records), for the handlers that change vaults. */
export function vaultStore(): DynamoVaultStore {
  const { dynamo, config, auditTable } = container();
  store ??= new DynamoVaultStore(dynamo, config.ARCA_TABLE_NAME, auditTable);
  return store;
}
