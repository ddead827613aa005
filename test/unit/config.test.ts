import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '#lib/config.ts';

const valid = {
  ARCA_KEYRING: 'kms',
  ARCA_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/x',
  ARCA_TOKEN_ISSUER: 'https://login.example/t/v2.0',
  ARCA_JWKS_URL: 'https://login.example/t/keys',
  ARCA_TENANT_ID: 't',
  ARCA_CHALLENGE_AUTHORITY: 'https://login.example',
};

describe('configuration', () => {
  it('fills the defaults a deployment needs not set', () => {
    const config = parseConfig(valid);
    assert.equal(config.ARCA_TABLE_NAME, 'arca');
    assert.equal(config.ARCA_TOKEN_AUDIENCE, 'https://vault.azure.net');
    assert.equal(config.ARCA_SOFT_DELETE_RETENTION_DAYS, 90);
    assert.equal(config.ARCA_DATA_KEY_CACHE_MAX_USES, 10_000);
  });

  it('fails loudly, naming every setting that is wrong', () => {
    assert.throws(
      () =>
        parseConfig({
          ...valid,
          ARCA_KMS_KEY_ID: '',
          ARCA_SOFT_DELETE_RETENTION_DAYS: '3',
          ARCA_JWKS_URL: 'nope',
        }),
      (e: Error) =>
        /ARCA_KMS_KEY_ID/.test(e.message) &&
        /ARCA_SOFT_DELETE_RETENTION_DAYS/.test(e.message) &&
        /ARCA_JWKS_URL/.test(e.message),
    );
    assert.throws(() => parseConfig({ ...valid, ARCA_KEYRING: 'vault' }), /ARCA_KEYRING/);
    assert.throws(() => parseConfig({ ...valid, ARCA_TENANT_ID: undefined }), /ARCA_TENANT_ID: required/);
  });
});
