import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cashRefundMinor, refundEffect, type RefundableState, type RefundEffect } from "../../src/domain/refund.ts";

/** A purchase nothing has been refunded from yet. */
const purchase = (amountMinor: number, earnedPoints: number, redeemedPoints: number): RefundableState => ({
  amountMinor,
  earnedPoints,
  redeemedPoints,
  refundedMinor: 0,
  clawedPoints: 0,
  restoredPoints: 0,
});

/** The purchase after a refund has been recorded. */
const after = (state: RefundableState, effect: RefundEffect): RefundableState => ({
  ...state,
  refundedMinor: state.refundedMinor + effect.refundMinor,
  clawedPoints: state.clawedPoints + effect.clawPoints,
  restoredPoints: state.restoredPoints + effect.restorePoints,
});

/** Refunds `parts` one after another; the effects in order. */
function refundInSteps(state: RefundableState, parts: number[]): RefundEffect[] {
  const effects: RefundEffect[] = [];
  for (const part of parts) {
    const effect = refundEffect(state, part);
    effects.push(effect);
    state = after(state, effect);
  }
  return effects;
}

const total = (effects: RefundEffect[], key: "refundMinor" | "clawPoints" | "restorePoints") => effects.reduce((n, e) => n + e[key], 0);

describe("a full refund (void)", () => {
  it("claws back exactly the points earned and restores exactly the points redeemed", () => {
    expect(refundEffect(purchase(50_000, 500, 2_000), 50_000)).toEqual({ refundMinor: 50_000, clawPoints: 500, restorePoints: 2_000 });
  });

  it("after partial refunds, refunding the rest undoes exactly what is left", () => {
    let state = purchase(10_000, 123, 45);
    state = after(state, refundEffect(state, 2_500));
    expect(refundEffect(state, 7_500)).toEqual({ refundMinor: 7_500, clawPoints: 123 - state.clawedPoints, restorePoints: 45 - state.restoredPoints });
  });
});

describe("partial refunds", () => {
  it("are pro rata: refunding ₩2,500 of ₩10,000 undoes a quarter", () => {
    expect(refundEffect(purchase(10_000, 100, 400), 2_500)).toEqual({ refundMinor: 2_500, clawPoints: 25, restorePoints: 100 });
  });

  it("round down each time and catch up at the end, so three thirds add up to the whole", () => {
    const effects = refundInSteps(purchase(10_000, 100, 7), [3_333, 3_333, 3_334]);
    expect(effects).toEqual([
      { refundMinor: 3_333, clawPoints: 33, restorePoints: 2 },
      { refundMinor: 3_333, clawPoints: 33, restorePoints: 2 },
      { refundMinor: 3_334, clawPoints: 34, restorePoints: 3 },
    ]);
    expect(total(effects, "clawPoints")).toBe(100);
    expect(total(effects, "restorePoints")).toBe(7);
  });

  it("of many tiny amounts still add up exactly (no drift: ₩1 at a time)", () => {
    const effects = refundInSteps(purchase(7, 3, 5), [1, 1, 1, 1, 1, 1, 1]);
    expect(effects.map((e) => e.clawPoints)).toEqual([0, 0, 1, 0, 1, 0, 1]);
    expect(total(effects, "clawPoints")).toBe(3);
    expect(total(effects, "restorePoints")).toBe(5);
  });

  it("a ₩0 refund undoes nothing", () => {
    expect(refundEffect(purchase(10_000, 100, 400), 0)).toEqual({ refundMinor: 0, clawPoints: 0, restorePoints: 0 });
  });
});

describe("₩0 purchases", () => {
  it("with no points, a refund undoes nothing", () => {
    expect(refundEffect(purchase(0, 0, 0), 0)).toEqual({ refundMinor: 0, clawPoints: 0, restorePoints: 0 });
  });

  it("with points, any refund is the whole purchase: everything is undone once, then nothing", () => {
    const state = purchase(0, 5, 3);
    const first = refundEffect(state, 0);
    expect(first).toEqual({ refundMinor: 0, clawPoints: 5, restorePoints: 3 });
    expect(refundEffect(after(state, first), 0)).toEqual({ refundMinor: 0, clawPoints: 0, restorePoints: 0 });
  });
});

describe("refunds in any number of steps (property)", () => {
  /** A purchase and a random way of refunding all of it in steps (some of them ₩0). */
  const scenario = fc
    .record({
      amountMinor: fc.integer({ min: 1, max: 1_000_000_000 }),
      earnedPoints: fc.integer({ min: 0, max: 100_000_000 }),
      redeemedPoints: fc.integer({ min: 0, max: 100_000_000 }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
    })
    .map(({ amountMinor, earnedPoints, redeemedPoints, cuts }) => {
      const points = [0, ...cuts.map((c) => Math.floor(c * amountMinor)).sort((a, b) => a - b), amountMinor];
      const parts = points.slice(1).map((p, i) => p - points[i]!);
      return { state: purchase(amountMinor, earnedPoints, redeemedPoints), parts };
    });

  it("add up to exactly what a single full refund undoes", () => {
    fc.assert(
      fc.property(scenario, ({ state, parts }) => {
        expect(parts.reduce((a, b) => a + b, 0)).toBe(state.amountMinor);
        const full = refundEffect(state, state.amountMinor);
        const effects = refundInSteps(state, parts);
        expect(total(effects, "refundMinor")).toBe(full.refundMinor);
        expect(total(effects, "clawPoints")).toBe(full.clawPoints);
        expect(total(effects, "restorePoints")).toBe(full.restorePoints);
        expect(full).toEqual({ refundMinor: state.amountMinor, clawPoints: state.earnedPoints, restorePoints: state.redeemedPoints });
      }),
      { numRuns: 500 },
    );
  });

  it("never undo a negative amount, and at every step have undone exactly what one refund of the same total would", () => {
    fc.assert(
      fc.property(scenario, ({ state, parts }) => {
        let current = state;
        for (const part of parts) {
          const effect = refundEffect(current, part);
          expect(effect.clawPoints).toBeGreaterThanOrEqual(0);
          expect(effect.restorePoints).toBeGreaterThanOrEqual(0);
          current = after(current, effect);
          const single = refundEffect(state, current.refundedMinor);
          expect(current.clawedPoints).toBe(single.clawPoints);
          expect(current.restoredPoints).toBe(single.restorePoints);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the money a refund hands back", () => {
  it("is the cash paid, pro rata: half of a ₩40,000 sale paid ₩39,600 in cash and 400 points hands back ₩19,800", () => {
    expect(cashRefundMinor({ amountMinor: 40_000, payableMinor: 39_600, refundedMinor: 0 }, 20_000)).toBe(19_800);
    expect(cashRefundMinor({ amountMinor: 40_000, payableMinor: 39_600, refundedMinor: 20_000 }, 20_000)).toBe(19_800);
    // Paid wholly with points and offers: no money goes back.
    expect(cashRefundMinor({ amountMinor: 5_000, payableMinor: 0, refundedMinor: 0 }, 5_000)).toBe(0);
  });

  it("over any split of refunds, never negative and adding up to exactly the cash paid", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }).chain((amountMinor) =>
          fc.record({
            amountMinor: fc.constant(amountMinor),
            payableMinor: fc.integer({ min: 0, max: amountMinor }),
            cuts: fc.array(fc.integer({ min: 0, max: amountMinor }), { maxLength: 12 }),
          }),
        ),
        ({ amountMinor, payableMinor, cuts }) => {
          const points = [0, ...[...cuts].sort((a, b) => a - b), amountMinor];
          let refundedMinor = 0;
          let handedBack = 0;
          for (const part of points.slice(1).map((p, i) => p - points[i]!)) {
            const cash = cashRefundMinor({ amountMinor, payableMinor, refundedMinor }, part);
            expect(cash).toBeGreaterThanOrEqual(0);
            expect(cash).toBeLessThanOrEqual(part);
            handedBack += cash;
            refundedMinor += part;
          }
          expect(handedBack).toBe(payableMinor);
        },
      ),
      { numRuns: 500 },
    );
  });
});
