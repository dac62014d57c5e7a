import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dayStart, expiresAt, localDate, monthStart } from "../../src/domain/expiry.ts";
import type { ExpiryPolicy } from "../../src/domain/program.ts";

const KST = 540;
const DAY_MS = 86_400_000;
/** An instant written as ISO 8601 with its offset, e.g. at("2025-03-14T10:00+09:00"). */
const at = (iso: string) => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad instant ${iso}`);
  return ms;
};
const rolling = (months: number): ExpiryPolicy => ({ policy: "rolling_months", months });
const endOfMonth = (years: number): ExpiryPolicy => ({ policy: "end_of_month", years });
const endOfYear = (years: number): ExpiryPolicy => ({ policy: "end_of_year", years });

describe("points that never expire", () => {
  it("have no expiry instant", () => {
    expect(expiresAt(at("2025-11-03T10:00Z"), { policy: "never" }, KST)).toBeNull();
  });
});

describe("rolling expiry (N months after earning, same local time)", () => {
  it("24 months from 2025-11-03T10:00Z is 2027-11-03T10:00Z", () => {
    expect(expiresAt(at("2025-11-03T10:00Z"), rolling(24), KST)).toBe(at("2027-11-03T10:00Z"));
  });

  it("keeps the time of day to the millisecond", () => {
    expect(expiresAt(at("2025-11-03T23:59:59.999+09:00"), rolling(1), KST)).toBe(at("2025-12-03T23:59:59.999+09:00"));
  });

  it.each([
    ["Jan 31 + 1 month, non-leap year → Feb 28", "2025-01-31T12:00+09:00", 1, "2025-02-28T12:00+09:00"],
    ["Jan 31 + 1 month, leap year → Feb 29", "2024-01-31T12:00+09:00", 1, "2024-02-29T12:00+09:00"],
    ["Jan 29 + 1 month, non-leap year → Feb 28", "2025-01-29T12:00+09:00", 1, "2025-02-28T12:00+09:00"],
    ["Feb 29 + 12 months → Feb 28", "2024-02-29T12:00+09:00", 12, "2025-02-28T12:00+09:00"],
    ["Mar 31 + 11 months → Feb 29 of the next (leap) year", "2023-03-31T12:00+09:00", 11, "2024-02-29T12:00+09:00"],
    ["Aug 31 + 1 month → Sep 30", "2025-08-31T12:00+09:00", 1, "2025-09-30T12:00+09:00"],
    ["Nov 30 + 3 months → Feb 28 of the next year", "2025-11-30T12:00+09:00", 3, "2026-02-28T12:00+09:00"],
    ["Jan 15 + 120 months → Jan 15 ten years on", "2025-01-15T12:00+09:00", 120, "2035-01-15T12:00+09:00"],
  ])("%s", (_, earned, months, expected) => {
    expect(expiresAt(at(earned), rolling(months), KST)).toBe(at(expected));
  });

  it("counts months from the local date: 2025-04-30T20:00Z is already May 1 in Korea, so +1 month is June 1 (KST)", () => {
    const earned = at("2025-04-30T20:00Z");
    expect(expiresAt(earned, rolling(1), KST)).toBe(at("2025-06-01T05:00+09:00"));
    expect(expiresAt(earned, rolling(1), 0)).toBe(at("2025-05-30T20:00Z")); // the same instant in a UTC program
  });
});

describe("end-of-month expiry (the end of the earning month, N years on)", () => {
  it("earned 2025-03-14 (KST), N=1 → usable until the end of 2026-03-31, i.e. the instant 2026-04-01T00:00+09:00", () => {
    expect(expiresAt(at("2025-03-14T10:00+09:00"), endOfMonth(1), KST)).toBe(at("2026-04-01T00:00+09:00"));
  });

  it("gives every instant of the local month the same expiry", () => {
    const expected = at("2026-04-01T00:00+09:00");
    expect(expiresAt(at("2025-03-01T00:00+09:00"), endOfMonth(1), KST)).toBe(expected);
    expect(expiresAt(at("2025-03-31T23:59:59.999+09:00"), endOfMonth(1), KST)).toBe(expected);
  });

  it("uses the local month: 2025-03-31T16:00Z is already April in Korea", () => {
    expect(expiresAt(at("2025-03-31T16:00Z"), endOfMonth(1), KST)).toBe(at("2026-05-01T00:00+09:00"));
    expect(expiresAt(at("2025-03-31T16:00Z"), endOfMonth(1), 0)).toBe(at("2026-04-01T00:00Z"));
  });

  it("rolls December over into the following year, and counts N years", () => {
    expect(expiresAt(at("2025-12-10T12:00+09:00"), endOfMonth(1), KST)).toBe(at("2027-01-01T00:00+09:00"));
    expect(expiresAt(at("2025-03-14T10:00+09:00"), endOfMonth(3), KST)).toBe(at("2028-04-01T00:00+09:00"));
  });

  it("earned on Feb 29 → end of Feb the next year (the 28th)", () => {
    expect(expiresAt(at("2024-02-29T12:00+09:00"), endOfMonth(1), KST)).toBe(at("2025-03-01T00:00+09:00"));
  });
});

describe("end-of-year expiry (the end of the calendar year N years after earning)", () => {
  it("earned 2025-06-01, N=1 → usable through 2026-12-31, i.e. until 2027-01-01T00:00+09:00", () => {
    expect(expiresAt(at("2025-06-01T12:00+09:00"), endOfYear(1), KST)).toBe(at("2027-01-01T00:00+09:00"));
  });

  it("gives the whole local year the same expiry", () => {
    expect(expiresAt(at("2025-01-01T00:00+09:00"), endOfYear(1), KST)).toBe(at("2027-01-01T00:00+09:00"));
    expect(expiresAt(at("2025-12-31T23:59:59.999+09:00"), endOfYear(1), KST)).toBe(at("2027-01-01T00:00+09:00"));
    expect(expiresAt(at("2025-06-01T12:00+09:00"), endOfYear(2), KST)).toBe(at("2028-01-01T00:00+09:00"));
  });

  it("uses the local date: 2025-12-31T20:00Z is already 2026-01-01 in Korea", () => {
    const earned = at("2025-12-31T20:00Z");
    expect(localDate(earned, KST)).toBe("2026-01-01");
    expect(expiresAt(earned, endOfYear(1), KST)).toBe(at("2028-01-01T00:00+09:00"));
    expect(expiresAt(earned, endOfMonth(1), KST)).toBe(at("2027-02-01T00:00+09:00"));
    // A program on UTC still sees 2025 for the same instant.
    expect(expiresAt(earned, endOfYear(1), 0)).toBe(at("2027-01-01T00:00Z"));
  });
});

describe("local days and months (for the daily and monthly caps)", () => {
  it("a Korean day starts at 15:00 UTC the day before", () => {
    expect(dayStart(at("2025-03-13T14:59:59.999Z"), KST)).toBe(at("2025-03-13T00:00+09:00"));
    expect(dayStart(at("2025-03-13T15:00Z"), KST)).toBe(at("2025-03-14T00:00+09:00"));
    expect(dayStart(at("2025-03-13T15:00Z"), KST)).toBe(at("2025-03-13T15:00Z"));
  });

  it("a Korean month starts at local midnight on the 1st", () => {
    expect(monthStart(at("2025-03-31T14:59:59.999Z"), KST)).toBe(at("2025-03-01T00:00+09:00"));
    expect(monthStart(at("2025-03-31T15:00Z"), KST)).toBe(at("2025-04-01T00:00+09:00"));
    expect(monthStart(at("2025-12-31T20:00Z"), KST)).toBe(at("2026-01-01T00:00+09:00"));
  });

  it("works for offsets behind UTC too", () => {
    // 03:00 UTC on March 1 is still February 28 at UTC−5.
    expect(dayStart(at("2025-03-01T03:00Z"), -300)).toBe(at("2025-02-28T00:00-05:00"));
    expect(monthStart(at("2025-03-01T03:00Z"), -300)).toBe(at("2025-02-01T00:00-05:00"));
  });

  it("localDate gives the program's calendar date", () => {
    expect(localDate(at("2025-03-13T14:59Z"), KST)).toBe("2025-03-13");
    expect(localDate(at("2025-03-13T15:00Z"), KST)).toBe("2025-03-14");
    expect(localDate(at("2025-12-31T20:00Z"), 0)).toBe("2025-12-31");
    expect(localDate(at("2026-01-01T03:00Z"), -300)).toBe("2025-12-31");
  });
});

describe("properties over any instant and offset", () => {
  const instant = fc.integer({ min: at("2000-01-01T00:00Z"), max: at("2100-01-01T00:00Z") });
  const offset = fc.integer({ min: -720, max: 840 });
  const policy: fc.Arbitrary<ExpiryPolicy> = fc.oneof(
    fc.integer({ min: 1, max: 120 }).map(rolling),
    fc.integer({ min: 1, max: 10 }).map(endOfMonth),
    fc.integer({ min: 1, max: 10 }).map(endOfYear),
  );

  it("the local day and month contain the instant and start at local midnight", () => {
    fc.assert(
      fc.property(instant, offset, (t, off) => {
        const day = dayStart(t, off);
        expect(day).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(day + DAY_MS);
        expect(localDate(day, off)).toBe(localDate(t, off));
        expect(dayStart(day, off)).toBe(day);
        const month = monthStart(t, off);
        expect(month).toBeLessThanOrEqual(day);
        expect(localDate(month, off)).toBe(`${localDate(t, off).slice(0, 7)}-01`);
      }),
      { numRuns: 300 },
    );
  });

  it("points always expire after they were earned, month- and year-end expiry at a local midnight on the 1st", () => {
    fc.assert(
      fc.property(instant, offset, policy, (t, off, p) => {
        const expiry = expiresAt(t, p, off);
        expect(expiry).not.toBeNull();
        expect(expiry!).toBeGreaterThan(t);
        if (p.policy === "rolling_months") {
          expect(expiry! - t).toBeGreaterThanOrEqual(p.months * 28 * DAY_MS);
          expect(expiry! - t).toBeLessThanOrEqual(p.months * 31 * DAY_MS);
          expect(Number(localDate(expiry!, off).slice(8))).toBeLessThanOrEqual(Number(localDate(t, off).slice(8)));
        } else {
          expect(dayStart(expiry!, off)).toBe(expiry);
          expect(localDate(expiry!, off).slice(8)).toBe("01");
          if (p.policy === "end_of_year") expect(localDate(expiry!, off).slice(5)).toBe("01-01");
        }
      }),
      { numRuns: 300 },
    );
  });
});
