/** When earned points expire, and the program's local day and month boundaries. */
import type { ExpiryPolicy } from "./program.ts";
import { DAY_MS, isoDate, MINUTE_MS } from "../lib/time.ts";

/** The calendar fields of an instant in the program's local time. */
function localParts(atMs: number, utcOffsetMinutes: number) {
  const d = new Date(atMs + utcOffsetMinutes * MINUTE_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate() };
}

/** The UTC instant of a local calendar time. Months overflow into years as Date.UTC does. */
function fromLocal(year: number, month: number, day: number, utcOffsetMinutes: number): number {
  return Date.UTC(year, month, day) - utcOffsetMinutes * MINUTE_MS;
}

/**
 * The instant earned points stop being usable, or null when they never expire.
 * rolling_months: the same local time N months later (the 31st becomes the month's last day);
 * end_of_month / end_of_year: the first instant after that month or year ends, N years on.
 */
export function expiresAt(earnedAtMs: number, policy: ExpiryPolicy, utcOffsetMinutes: number): number | null {
  const { year, month, day } = localParts(earnedAtMs, utcOffsetMinutes);
  switch (policy.policy) {
    case "never":
      return null;
    case "rolling_months": {
      const targetMonth = month + policy.months;
      const lastDay = new Date(Date.UTC(year, targetMonth + 1, 0)).getUTCDate();
      const timeOfDay = (earnedAtMs + utcOffsetMinutes * MINUTE_MS) % DAY_MS;
      return fromLocal(year, targetMonth, Math.min(day, lastDay), utcOffsetMinutes) + timeOfDay;
    }
    case "end_of_month":
      return fromLocal(year + policy.years, month + 1, 1, utcOffsetMinutes);
    case "end_of_year":
      return fromLocal(year + policy.years + 1, 0, 1, utcOffsetMinutes);
  }
}

/** Start of the local day and month containing an instant, for the earning caps. */
export function dayStart(atMs: number, utcOffsetMinutes: number): number {
  const { year, month, day } = localParts(atMs, utcOffsetMinutes);
  return fromLocal(year, month, day, utcOffsetMinutes);
}

export function monthStart(atMs: number, utcOffsetMinutes: number): number {
  const { year, month } = localParts(atMs, utcOffsetMinutes);
  return fromLocal(year, month, 1, utcOffsetMinutes);
}

/**
 * Days since 1970-01-01 of the local date containing an instant: how profiles count purchase days
 * and how the recompute measures histories, which must agree.
 */
export function localDayNumber(atMs: number, utcOffsetMinutes: number): number {
  return Math.floor((atMs + utcOffsetMinutes * MINUTE_MS) / DAY_MS);
}

/** YYYY-MM-DD in the program's local time, for human descriptions. */
export function localDate(atMs: number, utcOffsetMinutes: number): string {
  return isoDate(atMs + utcOffsetMinutes * MINUTE_MS);
}
