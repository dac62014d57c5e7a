import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { monthRange, netOf, pointsToMinor, settleMovement, sumLines } from "../../src/domain/settlement.ts";

const KST = 540;

describe("monthRange", () => {
  it("cuts months at local midnight in the program's time zone", () => {
    expect(monthRange("2026-03", KST)).toEqual({ fromMs: Date.parse("2026-03-01T00:00:00+09:00"), toMs: Date.parse("2026-04-01T00:00:00+09:00") });
    expect(monthRange("2026-12", KST)).toEqual({ fromMs: Date.parse("2026-12-01T00:00:00+09:00"), toMs: Date.parse("2027-01-01T00:00:00+09:00") });
    expect(monthRange("2024-02", -300)).toEqual({ fromMs: Date.parse("2024-02-01T00:00:00-05:00"), toMs: Date.parse("2024-03-01T00:00:00-05:00") });
  });

  it("tiles time: each month ends where the next begins", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 2998 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: -720, max: 840 }), (year, month, offset) => {
        const name = (y: number, m: number) => `${y}-${String(m).padStart(2, "0")}`;
        const next = month === 12 ? name(year + 1, 1) : name(year, month + 1);
        expect(monthRange(name(year, month), offset).toMs).toBe(monthRange(next, offset).fromMs);
      }),
    );
  });
});

describe("pointsToMinor", () => {
  it("rounds half up, to the unit", () => {
    expect(pointsToMinor(123, 1_500)).toBe(185); // 184.5
    expect(pointsToMinor(99, 1_005)).toBe(99); // 99.495
    expect(pointsToMinor(1, 499)).toBe(0);
    expect(pointsToMinor(1, 500)).toBe(1);
    expect(pointsToMinor(0, 123_456)).toBe(0);
  });

  it("mirrors negative amounts, so a credit undoes its charge exactly", () => {
    expect(pointsToMinor(-123, 1_500)).toBe(-185);
  });

  it("is exact when points × rate passes 2^53", () => {
    expect(pointsToMinor(9_007_199_254, 1_000_001)).toBe(9_007_208_261_199); // 9,007,208,261,199.254
  });

  it("agrees with Math.round where floating point is exact", () => {
    fc.assert(fc.property(fc.nat(1_000_000), fc.nat(100_000), (points, rate) => pointsToMinor(points, rate) === Math.round((points * rate) / 1000)));
  });
});

describe("settleMovement", () => {
  const base = { pointCostMilli: 1_500, redemptionRateMilli: 900, discountMinor: 0, operatorFundedMinor: 0 };

  it("a purchase issues and redeems; the partner owes for issuing and is owed for redemptions", () => {
    const line = settleMovement({ ...base, kind: "purchase", issuanceEntryPoints: -396, redemptionEntryPoints: 400, discountMinor: 2_000, operatorFundedMinor: 500 });
    expect(line.points).toEqual({ issued: 396, reversed: 0, redeemed: 400, restored: 0 });
    expect(line.amounts).toMatchObject({ issuanceChargeMinor: 594, redemptionReimbursementMinor: 360, partnerFundedDiscountsMinor: 1_500, operatorFundedDiscountsMinor: 500 });
    expect(line.netMinor).toBe(594 - 360 - 500);
  });

  it("a refund undoes at the purchase's rates, with the opposite sign", () => {
    const line = settleMovement({ ...base, kind: "refund", issuanceEntryPoints: 198, redemptionEntryPoints: -200, discountMinor: 1_000, operatorFundedMinor: 250 });
    expect(line.points).toEqual({ issued: 0, reversed: 198, redeemed: 0, restored: 200 });
    expect(line.amounts).toMatchObject({ reversalCreditMinor: 297, restorationChargeMinor: 180, partnerFundedDiscountsReversedMinor: 750, operatorFundedDiscountsReversedMinor: 250 });
    expect(line.netMinor).toBe(-297 + 180 + 250);
  });

  it("totals are column sums, and the net of the totals is the sum of the nets", () => {
    const lines = [
      settleMovement({ ...base, kind: "purchase", issuanceEntryPoints: -123, redemptionEntryPoints: 0 }),
      settleMovement({ ...base, kind: "void", issuanceEntryPoints: 123, redemptionEntryPoints: 0 }),
      settleMovement({ ...base, kind: "purchase", issuanceEntryPoints: -1, redemptionEntryPoints: 7 }),
    ];
    const total = sumLines(lines);
    expect(total.points).toEqual({ issued: 124, reversed: 123, redeemed: 7, restored: 0 });
    expect(total.netMinor).toBe(lines.reduce((n, l) => n + l.netMinor, 0));
    expect(total.netMinor).toBe(netOf(total.amounts));
  });
});
