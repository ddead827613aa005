/** Per-call limits of a sink's API. */
export interface BatchLimits {
  readonly count: number;
  readonly bytes: number;
}

/**
 * Splits items, in order, into batches within a call's limits. `size` is what
 * an item counts against `bytes`; `startsNew` can force a break (CloudWatch
 * Logs: a batch may span at most 24 hours). An item larger than `bytes` alone
 * gets a batch of its own, for the service to refuse.
 */
export function batchesWithin<T>(
  items: readonly T[],
  limits: BatchLimits,
  size: (item: T) => number,
  startsNew: (first: T, item: T) => boolean = () => false,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    const first = current[0];
    const full =
      first !== undefined &&
      (current.length >= limits.count || bytes + itemBytes > limits.bytes || startsNew(first, item));
    if (full) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export const MiB = 1024 * 1024;
