import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadRawPurchases } from "../helpers/cdnow.ts";
import { customersToReach, gini, lorenzCurve, paretoSummary, topCount, topRevenueShare } from "../../src/domain/pareto.ts";

/** Revenue per customer in the CDNOW sample, in whole cents so the sums stay exact. */
function cdnowRevenueCents(): number[] {
  const byCustomer = new Map<string, number>();
  for (const p of loadRawPurchases()) byCustomer.set(p.masterId, (byCustomer.get(p.masterId) ?? 0) + Math.round(p.dollars * 100));
  return [...byCustomer.values()];
}

describe("gini", () => {
  it("is 0 when everyone brings the same", () => {
    expect(gini([5, 5, 5, 5])).toBe(0);
    expect(gini([1])).toBe(0);
  });

  it("is (n − 1)/n when one customer brings everything", () => {
    expect(gini([0, 0, 0, 100])).toBeCloseTo(3 / 4, 12);
    expect(gini([0, 7, 0, 0, 0, 0, 0, 0, 0, 0])).toBeCloseTo(9 / 10, 12);
  });

  it("is 0 with no revenue, one customer or no customers", () => {
    expect(gini([0, 0, 0])).toBe(0);
    expect(gini([1234])).toBe(0);
    expect(gini([])).toBe(0);
  });

  it("matches a small example by hand: 1, 2, 3, 4 → 0.25", () => {
    // Σ i·x = 1 + 4 + 9 + 16 = 30, Σx = 10, n = 4: 2·30/(4·10) − 5/4 = 1.5 − 1.25.
    // Cross-check with the mean-difference form: Σ over ordered pairs |xi − xj| = 20, so
    // G = 20 / (2 · n² · mean) = 20 / (2 · 16 · 2.5) = 0.25.
    expect(gini([3, 1, 4, 2])).toBeCloseTo(0.25, 12);
  });

  it("agrees with the mean-difference definition and ignores order and scale", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 40 }), (xs) => {
        const total = xs.reduce((a, b) => a + b, 0);
        let pairs = 0;
        for (const a of xs) for (const b of xs) pairs += Math.abs(a - b);
        const expected = total === 0 ? 0 : pairs / (2 * xs.length * total);
        expect(gini(xs)).toBeCloseTo(expected, 10);
        expect(gini([...xs].reverse().map((x) => x * 3))).toBeCloseTo(expected, 10);
      }),
    );
  });

  it("rejects negative or non-finite revenue", () => {
    expect(() => gini([1, -1])).toThrow(RangeError);
    expect(() => gini([1, Number.NaN])).toThrow(RangeError);
  });
});

describe("top shares", () => {
  it("counts the top share as ⌊share · n⌋ customers", () => {
    expect(topCount(0.2, 2_357)).toBe(471);
    expect(topCount(0.29, 100)).toBe(29); // 0.29 · 100 is 28.999… in binary
    expect(topCount(0.01, 99)).toBe(0);
  });

  it("takes the biggest customers' share of revenue", () => {
    expect(topRevenueShare([10, 40, 30, 20], 0.5)).toEqual({ customerShare: 0.5, customers: 2, revenueShare: 0.7 });
    expect(topRevenueShare([0, 0], 0.5).revenueShare).toBe(0);
  });

  it("finds the fewest biggest customers that reach a revenue share", () => {
    expect(customersToReach([10, 40, 30, 20], 0.7)).toBe(2); // exactly 70%: reached
    expect(customersToReach([10, 40, 30, 20], 0.71)).toBe(3);
    expect(customersToReach([10, 40, 30, 20], 1)).toBe(4);
    expect(customersToReach([0, 0], 0.8)).toBe(0);
  });
});

describe("Lorenz curve", () => {
  it("runs from (0, 0) to (1, 1) over points + 1 points, smallest customers first", () => {
    const curve = lorenzCurve([10, 40, 30, 20], 4);
    expect(curve).toEqual([
      { customerShare: 0, revenueShare: 0 },
      { customerShare: 0.25, revenueShare: 0.1 },
      { customerShare: 0.5, revenueShare: 0.3 },
      { customerShare: 0.75, revenueShare: 0.6 },
      { customerShare: 1, revenueShare: 1 },
    ]);
  });

  it("interpolates between customers when there are fewer customers than points", () => {
    const curve = lorenzCurve([1, 3], 4);
    expect(curve.map((p) => p.revenueShare)).toEqual([0, 0.125, 0.25, 0.625, 1]);
  });

  it("is the equality line with no revenue or no customers", () => {
    expect(lorenzCurve([0, 0, 0], 2)).toEqual([
      { customerShare: 0, revenueShare: 0 },
      { customerShare: 0.5, revenueShare: 0.5 },
      { customerShare: 1, revenueShare: 1 },
    ]);
    expect(lorenzCurve([], 2).map((p) => p.revenueShare)).toEqual([0, 0.5, 1]);
  });

  it("is non-decreasing, convex, under the diagonal, with 101 points by default", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 300 }), (xs) => {
        const curve = lorenzCurve(xs);
        expect(curve).toHaveLength(101);
        expect(curve[0]).toEqual({ customerShare: 0, revenueShare: 0 });
        expect(curve[100]).toEqual({ customerShare: 1, revenueShare: 1 });
        for (let j = 1; j <= 100; j++) {
          const p = curve[j]!;
          const prev = curve[j - 1]!;
          expect(p.revenueShare).toBeGreaterThanOrEqual(prev.revenueShare - 1e-12);
          expect(p.revenueShare).toBeLessThanOrEqual(p.customerShare + 1e-12);
          if (j < 100) expect(p.revenueShare - prev.revenueShare).toBeLessThanOrEqual(curve[j + 1]!.revenueShare - p.revenueShare + 1e-12);
        }
      }),
    );
  });

  it("rejects a point count that is not a positive integer", () => {
    expect(() => lorenzCurve([1, 2], 0)).toThrow(RangeError);
    expect(() => lorenzCurve([1, 2], 2.5)).toThrow(RangeError);
  });
});

describe("CDNOW sample (2,357 customers, $244,091.94)", () => {
  const revenues = cdnowRevenueCents();
  const summary = paretoSummary(revenues);

  it("has the published customer count and total", () => {
    expect(summary.customers).toBe(2_357);
    expect(summary.totalRevenue).toBe(24_409_194);
  });

  it("top 20% (the biggest 471 customers) bring 67.4% of revenue", () => {
    const top20 = summary.top.find((t) => t.customerShare === 0.2)!;
    expect(top20.customers).toBe(471);
    expect(top20.revenueShare).toBeCloseTo(0.674, 3); // 0.67401…
  });

  it("reaching 80% of revenue takes a third of customers: 777 of 2,357", () => {
    expect(summary.customersFor80PctRevenue).toBe(777);
    expect(summary.customerShareFor80PctRevenue).toBeGreaterThan(0.3);
    expect(summary.customerShareFor80PctRevenue).toBeLessThan(0.37);
    expect(summary.customerShareFor80PctRevenue).toBeCloseTo(0.3297, 4); // 777 / 2357 = 0.32966…
  });

  it("gives the other top shares and Gini", () => {
    expect(summary.top.map((t) => [t.customerShare, t.customers, Number(t.revenueShare.toFixed(4))])).toEqual([
      [0.01, 23, 0.1417],
      [0.05, 117, 0.3591],
      [0.1, 235, 0.5071],
      [0.2, 471, 0.674],
      [0.5, 1_178, 0.8944],
    ]);
    expect(summary.gini).toBeCloseTo(0.6309, 4);
  });

  it("has a Lorenz curve consistent with the top shares", () => {
    const curve = lorenzCurve(revenues);
    // The bottom 80% of customers by Lorenz interpolation carry about 1 − 0.674 of revenue.
    expect(1 - curve[80]!.revenueShare).toBeCloseTo(0.674, 2);
    // The area under the curve gives Gini again (trapezoids on 100 slices, so only roughly).
    const area = curve.slice(1).reduce((sum, p, j) => sum + ((p.revenueShare + curve[j]!.revenueShare) / 2) * 0.01, 0);
    expect(1 - 2 * area).toBeCloseTo(summary.gini, 2);
  });
});
