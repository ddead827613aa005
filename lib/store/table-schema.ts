/**
 * The single DynamoDB table's key schema, shared by the store, the local
 * table bootstrap and the CDK stack so they cannot disagree.
 *
 * Items (vault and name are lower-cased: Key Vault names are case-insensitive):
 *   head of an object   pk = {vault}/{collection}/{name}   sk = "#head"
 *   one version         pk = {vault}/{collection}/{name}   sk = "v#{version}"
 *   a vault            pk = #vault/{vault}                  sk = "#vault"
 * Only heads and vaults carry the index keys (vaults: gsi1pk = #vaults or #deletedvaults):
 *   gsi1pk = {vault}/{collection}  or  {vault}/deleted{collection}
 *   gsi1sk = {name}
 */
export const tableKeys = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

export const collectionIndex = {
  indexName: 'byCollection',
  partitionKey: 'gsi1pk',
  sortKey: 'gsi1sk',
  /** Listing never needs sealed values, so the index never holds them. */
  nonKeyAttributes: [
    'displayName',
    'latestVersion',
    'attrs',
    'tags',
    'contentType',
    'managed',
    'kid',
    'deletedDate',
    'scheduledPurgeDate',
    'vaultDoc',
    'revision',
  ],
} as const;

/**
 * Heads whose latest version has an expiry carry these keys, so the expiry
 * sweep queries by time and never scans:
 *   expBucket = exp#{yyyy-mm} of the expiry   expSort = {expiry ISO}#{pk}
 */
export const expiryIndex = {
  indexName: 'byExpiry',
  partitionKey: 'expBucket',
  sortKey: 'expSort',
  nonKeyAttributes: ['displayName', 'latestVersion', 'attrs', 'tags', 'deletedDate'],
} as const;

export const HEAD_SK = '#head';
export const VERSION_SK_PREFIX = 'v#';
