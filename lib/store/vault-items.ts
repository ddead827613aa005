import { gunzipSync, gzipSync } from 'node:zlib';
import type { Vault } from '../vaults/model.ts';
import { type DynamoClient, getItem } from './dynamo-calls.ts';
import type { Item } from './secret-items.ts';

/** A vault is one item: its properties, policies and role assignments as gzip'd JSON (see table-schema.ts). */
export const VAULT_SK = '#vault';
export const vaultPk = (name: string) => `#vault/${name.toLowerCase()}`;
export const vaultKey = (name: string): Item => ({ pk: { S: vaultPk(name) }, sk: { S: VAULT_SK } });
export const vaultCollection = (deleted: boolean) => (deleted ? '#deletedvaults' : '#vaults');

export function vaultToItem(vault: Vault): Item {
  const { name, revision, ...doc } = vault;
  return {
    pk: { S: vaultPk(name) },
    sk: { S: VAULT_SK },
    gsi1pk: { S: vaultCollection(Boolean(vault.deletion)) },
    gsi1sk: { S: name.toLowerCase() },
    revision: { N: `${revision}` },
    vaultDoc: { B: gzipSync(JSON.stringify(doc)) },
  };
}

export function vaultFromItem(item: Item): Vault {
  const doc = JSON.parse(gunzipSync(item.vaultDoc?.B as Uint8Array).toString('utf8'));
  return { ...doc, name: item.gsi1sk?.S ?? '', revision: Number(item.revision?.N ?? 0) };
}

/**
 * Reads one vault record: all that authorizing a data-plane request needs,
 * so those handlers carry no vault write paths.
 */
export class DynamoVaultReader {
  constructor(
    private readonly client: DynamoClient,
    private readonly tableName: string,
  ) {}

  async get(name: string): Promise<Vault | undefined> {
    const item = await getItem(this.client, this.tableName, vaultKey(name));
    return item && vaultFromItem(item);
  }
}
