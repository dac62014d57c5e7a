import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeEarning, type BreakdownLine, type EarningInput, type PurchaseLine } from "../../src/domain/earning.ts";
import { defaultProgram, ProgramSchema, type Program } from "../../src/domain/program.ts";

/** The default program with some earning rules changed. */
function programWith(earning: Partial<Program["earning"]>): Program {
  return ProgramSchema.parse({ ...defaultProgram, earning: { ...defaultProgram.earning, ...earning } });
}

/** A purchase at an ordinary partner by a basic member who has earned nothing yet today. */
function earn(input: Partial<EarningInput> & { amountMinor: number }) {
  return computeEarning({
    program: defaultProgram,
    partnerId: "partner-1",
    tierCode: "basic",
    paidWithPointsMinor: 0,
    earnedToday: 0,
    earnedThisMonth: 0,
    ...input,
  });
}

const sumOf = (breakdown: BreakdownLine[]) => breakdown.reduce((n, line) => n + line.points, 0);

describe("earning under the default program (1% of what was paid, rounded down)", () => {
  it("earns 123 points on ₩12,345", () => {
    expect(earn({ amountMinor: 12_345 })).toEqual({
      points: 123,
      breakdown: [{ rule: "base_rate", rateBps: 100, amountMinor: 12_345, points: 123 }],
    });
  });

  it.each([
    [99, 0],
    [100, 1],
    [199, 1],
    [10_000, 100],
    [1_000_000_000, 10_000_000],
  ])("earns on ₩%i → %i points", (amountMinor, points) => {
    expect(earn({ amountMinor }).points).toBe(points);
  });

  it("earns nothing on a ₩0 purchase", () => {
    expect(earn({ amountMinor: 0 })).toEqual({
      points: 0,
      breakdown: [{ rule: "base_rate", rateBps: 100, amountMinor: 0, points: 0 }],
    });
  });
});

describe("paying with points", () => {
  it("earns nothing on the part paid with points: ₩10,000 with ₩3,000 in points → 70", () => {
    expect(earn({ amountMinor: 10_000, paidWithPointsMinor: 3_000 })).toEqual({
      points: 70,
      breakdown: [
        { rule: "paid_with_points", amountMinor: 3_000, points: 0 },
        { rule: "base_rate", rateBps: 100, amountMinor: 7_000, points: 70 },
      ],
    });
  });

  it("earns nothing when the whole purchase is paid with points (and never goes negative)", () => {
    expect(earn({ amountMinor: 10_000, paidWithPointsMinor: 10_000 }).points).toBe(0);
    const overpaid = earn({ amountMinor: 10_000, paidWithPointsMinor: 15_000 });
    expect(overpaid.points).toBe(0);
    // The breakdown shows no more paid with points than the purchase was worth.
    expect(overpaid.breakdown[0]).toEqual({ rule: "paid_with_points", amountMinor: 10_000, points: 0 });
  });

  it("takes the points share off every line pro rata", () => {
    const program = programWith({ categoryMultipliersPct: { books: 200 } });
    const lines = [
      { category: "books", amountMinor: 5_000 },
      { category: "food", amountMinor: 5_000 },
    ];
    // ₩4,000 in points on ₩10,000: each line keeps ₩3,000 that earns.
    const result = earn({ program, amountMinor: 10_000, paidWithPointsMinor: 4_000, lines });
    expect(result.points).toBe(90); // 60 at 1% on ₩6,000 + 30 more for books at ×2
    expect(result.breakdown).toContainEqual({ rule: "base_rate", rateBps: 100, amountMinor: 6_000, points: 60 });
    expect(result.breakdown).toContainEqual({ rule: "category_multiplier", category: "books", multiplierPct: 200, amountMinor: 3_000, points: 30 });
  });
});

describe("partner rates", () => {
  const program = programWith({ partnerRatesBps: { "cafe-1": 300, "kiosk-9": 0 } });

  it("replace the base rate at that partner: 3% on ₩10,000 → 300", () => {
    expect(earn({ program, partnerId: "cafe-1", amountMinor: 10_000 })).toEqual({
      points: 300,
      breakdown: [{ rule: "partner_rate", rateBps: 300, amountMinor: 10_000, points: 300 }],
    });
  });

  it("do not stack with the base rate, and a 0% partner earns nothing", () => {
    expect(earn({ program, partnerId: "kiosk-9", amountMinor: 10_000 }).points).toBe(0);
    expect(earn({ program, partnerId: "kiosk-9", amountMinor: 10_000 }).breakdown[0]).toMatchObject({ rule: "partner_rate", rateBps: 0 });
  });

  it("leave other partners on the base rate", () => {
    expect(earn({ program, partnerId: "partner-2", amountMinor: 10_000 })).toEqual({
      points: 100,
      breakdown: [{ rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 }],
    });
  });

  it("treat a partner id that happens to be an Object property name as an ordinary partner", () => {
    for (const partnerId of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(earn({ program, partnerId, amountMinor: 10_000 }).points, partnerId).toBe(100);
    }
  });
});

describe("item categories", () => {
  const program = programWith({ categoryMultipliersPct: { books: 200 }, excludedCategories: ["gift_card"] });

  it("earn double on books (×2), shown as an extra line on top of the base rate", () => {
    const lines = [
      { sku: "B-1", category: "books", amountMinor: 10_000 },
      { sku: "F-1", category: "food", amountMinor: 5_000 },
    ];
    expect(earn({ program, amountMinor: 15_000, lines })).toEqual({
      points: 250,
      breakdown: [
        { rule: "base_rate", rateBps: 100, amountMinor: 15_000, points: 150 },
        { rule: "category_multiplier", category: "books", multiplierPct: 200, amountMinor: 10_000, points: 100 },
      ],
    });
  });

  it("earn nothing on a gift card, which the breakdown shows", () => {
    const lines = [
      { category: "gift_card", amountMinor: 50_000 },
      { category: "food", amountMinor: 10_000 },
    ];
    expect(earn({ program, amountMinor: 60_000, lines })).toEqual({
      points: 100,
      breakdown: [
        { rule: "excluded_category", category: "gift_card", amountMinor: 50_000, points: 0 },
        { rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 },
      ],
    });
  });

  it("earn nothing on a purchase of only gift cards", () => {
    expect(earn({ program, amountMinor: 50_000, lines: [{ category: "gift_card", amountMinor: 50_000 }] }).points).toBe(0);
  });

  it("exclusion wins over a multiplier for the same category", () => {
    const both = programWith({ categoryMultipliersPct: { gift_card: 500 }, excludedCategories: ["gift_card"] });
    expect(earn({ program: both, amountMinor: 10_000, lines: [{ category: "gift_card", amountMinor: 10_000 }] }).points).toBe(0);
  });

  it("uncategorised lines, and purchases without lines, earn the base rate", () => {
    expect(earn({ program, amountMinor: 10_000, lines: [{ amountMinor: 10_000 }] }).points).toBe(100);
    expect(earn({ program, amountMinor: 10_000, lines: [] }).points).toBe(100);
  });

  it("multiply the exact amount, rounding down once: ₩12,345 of books at ×1.5 earns 185 (not ⌊123 × 1.5⌋ = 184)", () => {
    const oneAndAHalf = programWith({ categoryMultipliersPct: { books: 150 } });
    const result = earn({ program: oneAndAHalf, amountMinor: 12_345, lines: [{ category: "books", amountMinor: 12_345 }] });
    expect(result.points).toBe(185); // ⌊12,345 × 1% × 150%⌋ = ⌊185.175⌋
    expect(result.breakdown).toEqual([
      { rule: "base_rate", rateBps: 100, amountMinor: 12_345, points: 123 },
      { rule: "category_multiplier", category: "books", multiplierPct: 150, amountMinor: 12_345, points: 62 },
    ]);
  });

  it("round down per category, so small amounts in several categories can earn less than one category would", () => {
    const lines = [
      { category: "food", amountMinor: 150 },
      { category: "drinks", amountMinor: 150 },
    ];
    expect(earn({ amountMinor: 300, lines }).points).toBe(2); // ⌊1.5⌋ + ⌊1.5⌋
    expect(earn({ amountMinor: 300 }).points).toBe(3);
  });

  it("treat a category named like an Object property as an ordinary category", () => {
    for (const category of ["constructor", "toString", "__proto__", "valueOf"]) {
      expect(earn({ program, amountMinor: 10_000, lines: [{ category, amountMinor: 10_000 }] }).points, category).toBe(100);
    }
  });
});

describe("purchase lines only apportion the purchase amount (their own total is not what earns)", () => {
  const program = programWith({ categoryMultipliersPct: { books: 200 } });

  it("scales lines that add up to more than the amount down to it", () => {
    const lines = [
      { category: "books", amountMinor: 6_000 },
      { category: "food", amountMinor: 6_000 },
    ];
    const result = earn({ program, amountMinor: 10_000, lines });
    expect(result.breakdown).toContainEqual({ rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 });
    expect(result.points).toBe(150); // half of ₩10,000 is books
  });

  it("scales lines that add up to less than the amount up to it", () => {
    const result = earn({ program, amountMinor: 10_000, lines: [{ category: "books", amountMinor: 5_000 }] });
    expect(result.breakdown).toContainEqual({ rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 });
    expect(result.points).toBe(200);
  });

  it("rounds each line's share down, so a few minor units may be left unearned", () => {
    const lines = [{ amountMinor: 1 }, { amountMinor: 1 }, { amountMinor: 1 }];
    const result = earn({ amountMinor: 10_000, lines });
    expect(result.breakdown).toEqual([{ rule: "base_rate", rateBps: 100, amountMinor: 9_999, points: 99 }]);
  });
});

describe("tier multipliers", () => {
  it("gold earns 150%: ₩10,000 → 150, the extra 50 shown as a tier line", () => {
    expect(earn({ tierCode: "gold", amountMinor: 10_000 })).toEqual({
      points: 150,
      breakdown: [
        { rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 },
        { rule: "tier_multiplier", tier: "gold", multiplierPct: 150, points: 50 },
      ],
    });
  });

  it.each([
    ["basic", 100],
    ["silver", 120],
    ["gold", 150],
    ["vip", 200],
  ])("%s earns %i% of the base", (tierCode, pct) => {
    expect(earn({ tierCode, amountMinor: 100_000 }).points).toBe(10 * pct);
  });

  it("apply to points already rounded down (unlike category multipliers): gold on ₩12,345 is ⌊123 × 1.5⌋ = 184", () => {
    expect(earn({ tierCode: "gold", amountMinor: 12_345 }).points).toBe(184);
  });

  it("a tier code the program does not know earns as the starting tier", () => {
    expect(earn({ tierCode: "platinum", amountMinor: 10_000 })).toEqual(earn({ tierCode: "basic", amountMinor: 10_000 }));
  });
});

describe("caps", () => {
  it("per purchase: ₩100,000 would earn 1,000 but the cap is 500", () => {
    const program = programWith({ caps: { perPurchase: 500 } });
    const result = earn({ program, amountMinor: 100_000 });
    expect(result.points).toBe(500);
    expect(result.breakdown).toContainEqual({ rule: "cap_per_purchase", cap: 500, points: -500 });
  });

  it("per day: only what is left of today's cap is earned", () => {
    const program = programWith({ caps: { perDay: 1_000 } });
    const result = earn({ program, amountMinor: 50_000, earnedToday: 800 });
    expect(result.points).toBe(200);
    expect(result.breakdown).toContainEqual({ rule: "cap_per_day", cap: 1_000, points: -300 });
  });

  it("per month: only what is left of this month's cap is earned", () => {
    const program = programWith({ caps: { perMonth: 3_000 } });
    const result = earn({ program, amountMinor: 10_000, earnedThisMonth: 2_950 });
    expect(result.points).toBe(50);
    expect(result.breakdown).toContainEqual({ rule: "cap_per_month", cap: 3_000, points: -50 });
  });

  it("earns nothing once the day's cap is used up (even if earlier purchases overshot it)", () => {
    const program = programWith({ caps: { perDay: 1_000 } });
    expect(earn({ program, amountMinor: 10_000, earnedToday: 1_000 }).points).toBe(0);
    const over = earn({ program, amountMinor: 10_000, earnedToday: 1_200 });
    expect(over.points).toBe(0);
    expect(over.breakdown).toContainEqual({ rule: "cap_per_day", cap: 1_000, points: -100 });
  });

  it("leave no line when they do not bite (including landing exactly on the cap)", () => {
    const program = programWith({ caps: { perPurchase: 100, perDay: 1_000, perMonth: 10_000 } });
    expect(earn({ program, amountMinor: 10_000 })).toEqual({
      points: 100,
      breakdown: [{ rule: "base_rate", rateBps: 100, amountMinor: 10_000, points: 100 }],
    });
  });

  it("apply after the tier multiplier, in the order purchase → day → month, each as a negative line", () => {
    const program = programWith({ caps: { perPurchase: 500, perDay: 1_000, perMonth: 5_000 } });
    const result = earn({ program, tierCode: "gold", amountMinor: 100_000, earnedToday: 700, earnedThisMonth: 4_900 });
    expect(result).toEqual({
      points: 100,
      breakdown: [
        { rule: "base_rate", rateBps: 100, amountMinor: 100_000, points: 1_000 },
        { rule: "tier_multiplier", tier: "gold", multiplierPct: 150, points: 500 },
        { rule: "cap_per_purchase", cap: 500, points: -1_000 },
        { rule: "cap_per_day", cap: 1_000, points: -200 },
        { rule: "cap_per_month", cap: 5_000, points: -200 },
      ],
    });
  });

  it("a cap of 0 stops earning altogether", () => {
    const program = programWith({ caps: { perPurchase: 0 } });
    expect(earn({ program, amountMinor: 10_000 }).points).toBe(0);
  });
});

describe("every earning is explainable (property)", () => {
  const categories = ["books", "food", "gift_card", "tobacco", "", "constructor"];
  const partners = ["p1", "p2", "p3"];
  const tierCodes = defaultProgram.tiers.map((t) => t.code);
  const MAX_AMOUNT = 1_000_000_000;

  const programArb = fc
    .record({
      baseRateBps: fc.integer({ min: 0, max: 10_000 }),
      partnerRatesBps: fc.dictionary(fc.constantFrom(...partners), fc.integer({ min: 0, max: 10_000 })),
      categoryMultipliersPct: fc.dictionary(fc.constantFrom(...categories), fc.integer({ min: 0, max: 1_000 })),
      excludedCategories: fc.uniqueArray(fc.constantFrom(...categories)),
      caps: fc.record(
        {
          perPurchase: fc.integer({ min: 0, max: 10_000_000 }),
          perDay: fc.integer({ min: 0, max: 10_000_000 }),
          perMonth: fc.integer({ min: 0, max: 100_000_000 }),
        },
        { requiredKeys: [] },
      ),
      tierMultipliersPct: fc.tuple(...tierCodes.map(() => fc.integer({ min: 0, max: 1_000 }))),
    })
    .map(({ tierMultipliersPct, ...earning }) =>
      ProgramSchema.parse({
        ...defaultProgram,
        earning: { ...defaultProgram.earning, ...earning },
        tiers: defaultProgram.tiers.map((t, i) => ({ ...t, multiplierPct: tierMultipliersPct[i] })),
      }),
    );

  const lineArb: fc.Arbitrary<PurchaseLine> = fc.record(
    { category: fc.constantFrom(...categories), amountMinor: fc.integer({ min: 0, max: MAX_AMOUNT }) },
    { requiredKeys: ["amountMinor"] },
  );

  const inputArb: fc.Arbitrary<EarningInput> = fc.record({
    program: programArb,
    partnerId: fc.constantFrom(...partners, "elsewhere"),
    tierCode: fc.constantFrom(...tierCodes, "unknown"),
    amountMinor: fc.integer({ min: 0, max: MAX_AMOUNT }),
    lines: fc.option(fc.array(lineArb, { maxLength: 6 }), { nil: undefined }),
    paidWithPointsMinor: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_AMOUNT })),
    earnedToday: fc.integer({ min: 0, max: 20_000_000 }),
    earnedThisMonth: fc.integer({ min: 0, max: 200_000_000 }),
  });

  it("the breakdown's points always add up to the points earned, which are a whole number ≥ 0 within every cap", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { points, breakdown } = computeEarning(input);
        expect(Number.isSafeInteger(points)).toBe(true);
        expect(points).toBeGreaterThanOrEqual(0);
        expect(sumOf(breakdown)).toBe(points);

        const { perPurchase, perDay, perMonth } = input.program.earning.caps;
        if (perPurchase !== undefined) expect(points).toBeLessThanOrEqual(perPurchase);
        if (perDay !== undefined) expect(points).toBeLessThanOrEqual(Math.max(0, perDay - input.earnedToday));
        if (perMonth !== undefined) expect(points).toBeLessThanOrEqual(Math.max(0, perMonth - input.earnedThisMonth));

        for (const line of breakdown) {
          if (line.rule.startsWith("cap_")) expect(line.points).toBeLessThan(0);
          if (line.rule === "paid_with_points" || line.rule === "excluded_category") expect(line.points).toBe(0);
          if ("amountMinor" in line) expect(line.amountMinor).toBeGreaterThanOrEqual(0);
        }
        // Nothing earns on more than was actually paid.
        const rated = breakdown.find((l): l is Extract<BreakdownLine, { rateBps: number }> => l.rule === "base_rate" || l.rule === "partner_rate");
        expect(rated?.amountMinor).toBeLessThanOrEqual(Math.max(0, input.amountMinor - input.paidWithPointsMinor));
      }),
      { numRuns: 500 },
    );
  });

  it("a ₩0 purchase earns 0 under any program", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(computeEarning({ ...input, amountMinor: 0 }).points).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("under the default program, a basic member earns ⌊1% of (amount − points paid)⌋", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT }), fc.integer({ min: 0, max: MAX_AMOUNT }), (amountMinor, paidWithPointsMinor) => {
        expect(earn({ amountMinor, paidWithPointsMinor }).points).toBe(Math.floor(Math.max(0, amountMinor - paidWithPointsMinor) / 100));
      }),
      { numRuns: 300 },
    );
  });
});
