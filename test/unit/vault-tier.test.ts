import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadParameterError } from '#lib/errors.ts';
import { requireKeyTypeAllowed } from '#lib/vaults/tier.ts';

describe('vault tiers', () => {
  it('refuses HSM-protected key types in a standard vault with 400', () => {
    for (const kty of ['RSA-HSM', 'EC-HSM', 'oct-HSM']) {
      assert.throws(() => requireKeyTypeAllowed('standard', kty), BadParameterError);
      assert.doesNotThrow(() => requireKeyTypeAllowed('premium', kty));
    }
  });

  it('allows software keys on both tiers', () => {
    for (const kty of ['RSA', 'EC']) {
      assert.doesNotThrow(() => requireKeyTypeAllowed('standard', kty));
      assert.doesNotThrow(() => requireKeyTypeAllowed('premium', kty));
    }
  });
});
