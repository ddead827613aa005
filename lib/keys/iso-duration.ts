import { BadParameterError } from '../errors.ts';

/** An ISO 8601 duration as rotation policies use it: years, months and days (P1Y2M10D, P90D). */
export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
}

const PATTERN = /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$/;

export function parseIsoDuration(text: string, field: string): IsoDuration {
  const m = PATTERN.exec(text);
  if (!m || text === 'P') {
    throw new BadParameterError(
      `${field} must be an ISO 8601 duration of years, months and days, such as P90D or P1Y; got ${text.slice(0, 32)}.`,
    );
  }
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), days: Number(m[3] ?? 0) };
}

/** The instant `d` after `from` (Unix seconds), by the calendar (UTC). */
export function addDuration(from: number, d: IsoDuration): number {
  const date = new Date(from * 1000);
  date.setUTCFullYear(
    date.getUTCFullYear() + d.years,
    date.getUTCMonth() + d.months,
    date.getUTCDate() + d.days,
  );
  return Math.floor(date.getTime() / 1000);
}

/** The instant `d` before `from` (Unix seconds). */
export function subtractDuration(from: number, d: IsoDuration): number {
  return addDuration(from, { years: -d.years, months: -d.months, days: -d.days });
}

/** The shortest length the duration can have, in days (months of 28 days, years of 365). */
export function minimumDays(d: IsoDuration): number {
  return d.years * 365 + d.months * 28 + d.days;
}
