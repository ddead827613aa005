import assert from 'node:assert/strict';
import type { RestError } from '@azure/core-rest-pipeline';

/** Asserts an SDK call failed with this status and Key Vault error code (and, if given, a message matching). */
export async function rejectsWith(promise: Promise<unknown>, status: number, code: string, message?: RegExp) {
  await assert.rejects(promise, (error: RestError) => {
    assert.equal(error.statusCode, status, `status of ${error.message}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}
