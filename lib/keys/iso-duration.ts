import { BadParameterError } from '../errors.ts';

/**
 * An ISO 8601 duration as rotation policies use it: P[nY][nM][nW][nD][T[nH][nM][nS]]
 * with whole numbers (P90D, P1Y, P2M, P1Y10D, P4W, PT48H). Key Vault's own
 * examples use years, months and days, and the specification names PT48H;
 * weeks and time parts are taken too, so any duration an SDK passes through
 * is read. Fractions and negative durations are refused.
 */
export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const PATTERN =
  /^P(?:(\d{1,4})Y)?(?:(\d{1,5})M)?(?:(\d{1,5})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10})S)?)?$/;

const DAY = 86_400;
/** The length the comparisons of rotation policies give a month and a year (see nominalSeconds). */
const NOMINAL_MONTH_DAYS = 30;
const NOMINAL_YEAR_DAYS = 365;

/** Parses a duration, or throws BadParameter naming `field` (the value is quoted only shortened). */
export function parseIsoDuration(text: string, field: string): IsoDuration {
  const m = typeof text === 'string' ? PATTERN.exec(text.toUpperCase()) : null;
  // 'P' and 'PT' alone match the pattern but name no length at all.
  if (!m || /T$/i.test(text) || m.slice(1).every((part) => part === undefined)) {
    const shown = typeof text === 'string' ? text.slice(0, 32) : typeof text;
    throw new BadParameterError(
      `${field} must be an ISO 8601 duration such as P90D, P3M, P1Y or P1Y10D; got ${JSON.stringify(shown)}.`,
    );
  }
  const n = (i: number) => Number(m[i] ?? 0);
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/** The instant `d` after `from` (Unix seconds): calendar parts by the UTC calendar, then the clock parts. */
export function addDuration(from: number, d: IsoDuration): number {
  return shift(from, d, 1);
}

/** The instant `d` before `from` (Unix seconds). */
export function subtractDuration(from: number, d: IsoDuration): number {
  return shift(from, d, -1);
}

function shift(from: number, d: IsoDuration, sign: 1 | -1): number {
  const date = new Date(from * 1000);
  date.setUTCFullYear(
    date.getUTCFullYear() + sign * d.years,
    date.getUTCMonth() + sign * d.months,
    date.getUTCDate() + sign * (d.weeks * 7 + d.days),
  );
  const clock = d.hours * 3600 + d.minutes * 60 + d.seconds;
  return Math.floor(date.getTime() / 1000) + sign * clock;
}

/**
 * The length used to compare two durations and to check minimums: a year is
 * 365 days and a month 30 (so P1M counts as 30 days, P1Y as 365). Comparing
 * by the calendar would make the answer depend on the day it is asked.
 */
export function nominalSeconds(d: IsoDuration): number {
  const days = d.years * NOMINAL_YEAR_DAYS + d.months * NOMINAL_MONTH_DAYS + d.weeks * 7 + d.days;
  return days * DAY + d.hours * 3600 + d.minutes * 60 + d.seconds;
}

/** nominalSeconds in days, rounded up: P1M is 30, PT36H is 2. */
export function nominalDays(d: IsoDuration): number {
  return Math.ceil(nominalSeconds(d) / DAY);
}
