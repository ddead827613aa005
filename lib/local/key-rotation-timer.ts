import type { VaultUrl } from '../events/vault-events.ts';
import { makeRotationSweep, type RotationSweepResult } from '../keys/rotation-sweep.ts';
import { container } from '../runtime/container.ts';
import { keysDeps } from '../runtime/keys.ts';

/**
 * Local mode's stand-in for functions/events/key-rotation-sweep.ts: the same
 * sweep over the handlers' own container (the local vault has set ARCA_* by
 * the time it first runs), for the event pipeline's sweep timer
 * (lib/local/event-stream-poller.ts) to run at start and every
 * ARCA_SWEEP_INTERVAL_MS.
 */
export function localKeyRotationSweep(vaultUrl: VaultUrl): () => Promise<RotationSweepResult> {
  let sweep: (() => Promise<RotationSweepResult>) | undefined;
  return () => {
    sweep ??= makeRotationSweep({ keys: keysDeps(), vaults: container().vaults, vaultUrl });
    return sweep();
  };
}
