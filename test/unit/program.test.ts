import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultProgram, ProgramSchema } from "../../src/domain/program.ts";

type Tier = (typeof defaultProgram.tiers)[number];
const tier = (code: string, qualifyingPoints: number, multiplierPct = 100): Tier => ({ code, name: code.toUpperCase(), qualifyingPoints, multiplierPct });

/** The issues (path and message) a program is rejected with, or [] when it is accepted. */
function issuesOf(input: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const result = ProgramSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map(({ path, message }) => ({ path, message }));
}

const withTiers = (tiers: unknown) => ({ ...defaultProgram, tiers });
const withRedemption = (redemption: unknown) => ({ ...defaultProgram, redemption });

describe("the default program", () => {
  it("is a valid program, unchanged by parsing", () => {
    expect(ProgramSchema.parse(defaultProgram)).toEqual(defaultProgram);
  });

  it("matches the contract: KRW, 1% rounded down, available at once, 24-month expiry, ₩1 a point, no redemption limits", () => {
    expect(defaultProgram).toMatchObject({
      currency: "KRW",
      utcOffsetMinutes: 540,
      pointValueMinor: 1,
      earning: { baseRateBps: 100, pendingDays: 0, caps: {} },
      expiry: { policy: "rolling_months", months: 24 },
      redemption: {},
    });
    expect(defaultProgram.tiers.map((t) => [t.code, t.qualifyingPoints, t.multiplierPct])).toEqual([
      ["basic", 0, 100],
      ["silver", 5_000, 120],
      ["gold", 20_000, 150],
      ["vip", 50_000, 200],
    ]);
  });

  it("fills in defaults for everything optional (Korea time, 30 days' notice, no caps …)", () => {
    const minimal = {
      currency: "KRW",
      pointValueMinor: 1,
      earning: { baseRateBps: 100 },
      expiry: { policy: "never" },
      tiers: [tier("basic", 0)],
    };
    expect(ProgramSchema.parse(minimal)).toEqual({
      ...minimal,
      utcOffsetMinutes: 540,
      expiryNoticeDays: 30,
      earning: { baseRateBps: 100, partnerRatesBps: {}, categoryMultipliersPct: {}, excludedCategories: [], caps: {}, pendingDays: 0 },
      redemption: { allowTypedNumber: false },
    });
  });
});

describe("tiers", () => {
  it("must start at 0 points", () => {
    expect(issuesOf(withTiers([tier("basic", 100), tier("gold", 1_000)]))).toEqual([
      { path: ["tiers", 0, "qualifyingPoints"], message: "The first tier needs no points" },
    ]);
  });

  it("must each need strictly more points than the one below", () => {
    expect(issuesOf(withTiers([tier("basic", 0), tier("silver", 5_000), tier("gold", 5_000)]))).toEqual([
      { path: ["tiers", 2, "qualifyingPoints"], message: "Tiers must need strictly more points than the one below" },
    ]);
    expect(issuesOf(withTiers([tier("basic", 0), tier("gold", 20_000), tier("silver", 5_000)]))).toEqual([
      { path: ["tiers", 2, "qualifyingPoints"], message: "Tiers must need strictly more points than the one below" },
    ]);
    expect(issuesOf(withTiers([tier("basic", 0), tier("silver", 1)]))).toEqual([]);
  });

  it("must have unique codes", () => {
    expect(issuesOf(withTiers([tier("basic", 0), tier("gold", 1_000), tier("gold", 2_000)]))).toEqual([
      { path: ["tiers"], message: "Tier codes must be unique" },
    ]);
  });

  it("must number between 1 and 10 (an empty list is rejected, not a crash)", () => {
    expect(issuesOf(withTiers([]))).toHaveLength(1);
    expect(issuesOf(withTiers([]))[0]!.path).toEqual(["tiers"]);
    const ten = Array.from({ length: 10 }, (_, i) => tier(`t${i}`, i * 100));
    expect(issuesOf(withTiers(ten))).toEqual([]);
    expect(issuesOf(withTiers([...ten, tier("t10", 1_000)]))).not.toEqual([]);
  });

  it.each(["Gold", "1st", "gold-tier", "", "a".repeat(21)])("reject the code %j", (code) => {
    expect(issuesOf(withTiers([tier(code, 0)]))).not.toEqual([]);
  });
});

describe("redemption limits", () => {
  it("reject a minimum above the maximum", () => {
    expect(issuesOf(withRedemption({ minPoints: 1_000, maxPoints: 500 }))).toEqual([
      { path: ["redemption", "minPoints"], message: "minPoints exceeds maxPoints" },
    ]);
  });

  it("accept a minimum equal to the maximum, or either alone", () => {
    expect(issuesOf(withRedemption({ minPoints: 500, maxPoints: 500 }))).toEqual([]);
    expect(issuesOf(withRedemption({ minPoints: 1_000 }))).toEqual([]);
    expect(issuesOf(withRedemption({ maxPoints: 10 }))).toEqual([]);
  });
});

describe("unknown settings are rejected, not ignored (strict)", () => {
  it.each([
    ["the program", { ...defaultProgram, bonusRate: 5 }],
    ["earning", { ...defaultProgram, earning: { ...defaultProgram.earning, rateBps: 100 } }],
    ["caps", { ...defaultProgram, earning: { ...defaultProgram.earning, caps: { perWeek: 10 } } }],
    ["expiry", { ...defaultProgram, expiry: { policy: "rolling_months", months: 24, days: 3 } }],
    ["never-expiry", { ...defaultProgram, expiry: { policy: "never", months: 24 } }],
    ["redemption", withRedemption({ minimum: 10 })],
    ["a tier", withTiers([{ ...tier("basic", 0), colour: "gold" }])],
  ])("an unknown key in %s", (_, input) => {
    expect(issuesOf(input)).not.toEqual([]);
  });
});

describe("values out of range are rejected", () => {
  it.each([
    ["a base rate above 100%", { ...defaultProgram, earning: { ...defaultProgram.earning, baseRateBps: 10_001 } }],
    ["a fractional rate", { ...defaultProgram, earning: { ...defaultProgram.earning, baseRateBps: 1.5 } }],
    ["a negative partner rate", { ...defaultProgram, earning: { ...defaultProgram.earning, partnerRatesBps: { p: -1 } } }],
    ["a category multiplier above 1,000%", { ...defaultProgram, earning: { ...defaultProgram.earning, categoryMultipliersPct: { books: 1_001 } } }],
    ["a negative cap", { ...defaultProgram, earning: { ...defaultProgram.earning, caps: { perDay: -1 } } }],
    ["a tier multiplier above 1,000%", withTiers([tier("basic", 0, 1_001)])],
    ["rolling expiry of 0 months", { ...defaultProgram, expiry: { policy: "rolling_months", months: 0 } }],
    ["rolling expiry beyond 120 months", { ...defaultProgram, expiry: { policy: "rolling_months", months: 121 } }],
    ["an unknown expiry policy", { ...defaultProgram, expiry: { policy: "end_of_week", years: 1 } }],
    ["a UTC offset beyond +14:00", { ...defaultProgram, utcOffsetMinutes: 841 }],
    ["a lower-case currency", { ...defaultProgram, currency: "krw" }],
    ["a point worth nothing", { ...defaultProgram, pointValueMinor: 0 }],
  ])("%s", (_, input) => {
    expect(issuesOf(input)).not.toEqual([]);
  });

  it("accepts the extremes of every range", () => {
    const extremes = {
      ...defaultProgram,
      utcOffsetMinutes: -720,
      earning: { ...defaultProgram.earning, baseRateBps: 10_000, categoryMultipliersPct: { books: 1_000 }, caps: { perPurchase: 0 } },
      expiry: { policy: "rolling_months", months: 120 },
      tiers: [tier("basic", 0, 0), tier("top", 1, 1_000)],
    };
    expect(issuesOf(extremes)).toEqual([]);
  });
});

describe("validation never throws (property)", () => {
  const keys = ["currency", "utcOffsetMinutes", "pointValueMinor", "earning", "expiry", "expiryNoticeDays", "redemption", "tiers"] as const;

  it("any value in any setting yields a result, never an exception", () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.anything(), (key, value) => {
        expect(() => ProgramSchema.safeParse({ ...defaultProgram, [key]: value })).not.toThrow();
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 4 }), (tiers) => {
        expect(() => ProgramSchema.safeParse(withTiers(tiers))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
