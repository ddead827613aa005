import { randomBytes } from 'node:crypto';

/** Key Vault version ids: 32 lower-case hex characters. */
export const newVersionId = () => randomBytes(16).toString('hex');

export const nowSeconds = () => Math.floor(Date.now() / 1000);
