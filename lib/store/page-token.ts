import { BadParameterError } from '../errors.ts';
import type { Page } from '../secrets/model.ts';

/**
 * Paging tokens ($skiptoken) are opaque to callers: base64url of a small JSON
 * object naming where the next page starts. A token that does not decode to
 * the expected shape is the caller's mistake: 400, never a 500.
 */
export function encodePageToken(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodePageToken(token: string, field: string, pattern: RegExp): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))?.[field];
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new BadParameterError('The $skiptoken parameter is not a token this service issued.');
  }
  return value;
}

/** The first `max` items, and a token for the rest when a query returned more (it asks for max + 1). */
export function pageOf<T>(items: T[], max: number, position: (last: T) => Record<string, string>): Page<T> {
  if (items.length <= max) return { items };
  const kept = items.slice(0, max);
  return { items: kept, nextToken: encodePageToken(position(kept[kept.length - 1] as T)) };
}
