import { BadParameterError } from '../errors.ts';
import type { AuditQuery } from '../store/dynamo-audit-query.ts';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 31;

/**
 * A query of a vault's records from its query string: `from` and `to` (ISO
 * times; default the last 24 hours; at most 31 days apart), `operationName`,
 * `caller` (object id), `resultType` (Success | Failure), `$top` (1-1000,
 * default 100), `$skiptoken`.
 */
export function auditQueryFrom(vault: string, query: URLSearchParams, now = Date.now()): AuditQuery {
  const to = time(query.get('to'), 'to') ?? new Date(now).toISOString();
  const from = time(query.get('from'), 'from') ?? new Date(Date.parse(to) - DAY_MS).toISOString();
  if (Date.parse(from) > Date.parse(to)) throw new BadParameterError("'from' must not be later than 'to'.");
  if (Date.parse(to) - Date.parse(from) > MAX_RANGE_DAYS * DAY_MS) {
    throw new BadParameterError(`A query spans at most ${MAX_RANGE_DAYS} days; narrow 'from' and 'to'.`);
  }
  const top = query.get('$top');
  const maxResults = top === null ? 100 : Number(top);
  if (!/^\d+$/.test(top ?? '100') || maxResults < 1 || maxResults > 1000) {
    throw new BadParameterError("'$top' must be an integer from 1 to 1000.");
  }
  const resultType = query.get('resultType') ?? undefined;
  if (resultType && resultType !== 'Success' && resultType !== 'Failure') {
    throw new BadParameterError("'resultType' must be Success or Failure.");
  }
  const operationName = query.get('operationName') ?? undefined;
  if (operationName && !/^[A-Za-z]{1,64}$/.test(operationName)) {
    throw new BadParameterError("'operationName' must be an operation name such as SecretGet.");
  }
  const caller = query.get('caller') ?? undefined;
  if (caller && !/^[\w.@-]{1,128}$/.test(caller))
    throw new BadParameterError("'caller' must be an object id.");
  const token = query.get('$skiptoken') ?? undefined;
  return {
    vault: vault.toLowerCase(),
    from,
    to,
    maxResults,
    ...(operationName && { operationName }),
    ...(caller && { caller }),
    ...(resultType && { resultType }),
    ...(token && { token }),
  };
}

function time(value: string | null, name: string): string | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new BadParameterError(`'${name}' must be an ISO 8601 time, such as 2026-11-29T00:00:00Z.`);
  return new Date(ms).toISOString();
}
