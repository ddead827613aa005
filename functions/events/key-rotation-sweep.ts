import { vaultUrlFor } from '#lib/events/events-config.ts';
import { makeRotationSweep, type RotationSweepResult } from '#lib/keys/rotation-sweep.ts';
import { container } from '#lib/runtime/container.ts';
import { keysDeps } from '#lib/runtime/keys.ts';

let sweep: (() => Promise<RotationSweepResult>) | undefined;

/** Made on the first run of a container: the same key dependencies (store, barrier, backends) as RotateKey's. */
function containerSweep() {
  const { config, vaults } = container();
  sweep ??= makeRotationSweep({ keys: keysDeps(), vaults, vaultUrl: vaultUrlFor(config.ARCA_VAULT_DOMAIN) });
  return sweep;
}

/**
 * Run by EventBridge Scheduler every hour: rotates the keys whose rotation
 * policy's Rotate action is due (lib/keys/rotation-sweep.ts). Safe to run
 * twice or at once. A key that could not be rotated is named (with an error
 * name, never a message) and the run fails, so that the failure shows; the
 * next run tries it again.
 */
export const handler = async (): Promise<{ checked: number; rotated: number; superseded: number }> => {
  const result = await containerSweep()();
  const summary = {
    checked: result.checked,
    rotated: result.rotated.length,
    superseded: result.superseded.length,
    failed: result.failed.length,
  };
  console.log(JSON.stringify({ level: 'info', msg: 'key rotation sweep', ...summary }));
  if (result.failed.length > 0) {
    console.error(JSON.stringify({ level: 'error', msg: 'keys not rotated', failed: result.failed }));
    throw new Error(`${result.failed.length} keys due for rotation were not rotated`);
  }
  return { checked: summary.checked, rotated: summary.rotated, superseded: summary.superseded };
};
