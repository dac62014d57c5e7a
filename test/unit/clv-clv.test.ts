import { describe, expect, it } from "vitest";
import { conditionalExpectedPurchases, type BgNbdParams } from "../../src/domain/clv/bgnbd.ts";
import {
  customerLifetimeValue,
  DAYS_PER_MONTH,
  lifecycleStage,
  WEEKS_PER_MONTH,
  type ClvOptions,
  type LifecycleInput,
} from "../../src/domain/clv/clv.ts";
import { expectedAverageSpend, type GammaGammaParams } from "../../src/domain/clv/gamma-gamma.ts";

const relativeError = (value: number, expected: number) => Math.abs(value / expected - 1);

/** The CDNOW fits (weeks, dollars). */
const bgNbd: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.426 };
const gammaGamma: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
const customer1 = { x: 2, tx: 30.43, T: 38.86, mx: 22.345 };
const customer1516 = { x: 26, tx: 30.857142857142858, T: 31, mx: 32.9 };
const yearOfMonths: ClvOptions = { periods: 12, periodLength: WEEKS_PER_MONTH, discountRatePerPeriod: 0.01 };

describe("customerLifetimeValue", () => {
  it("without discounting is expected spend × expected purchases over the horizon", () => {
    const undiscounted = customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, discountRatePerPeriod: 0 });
    const purchases = conditionalExpectedPurchases(bgNbd, customer1, 12 * WEEKS_PER_MONTH);
    const spend = expectedAverageSpend(gammaGamma, customer1.x, customer1.mx);
    expect(relativeError(undiscounted.clv, spend * purchases)).toBeLessThan(1e-12);
    expect(undiscounted.expectedPurchases).toBeCloseTo(purchases, 12);
    expect(undiscounted.expectedAverageSpend).toBe(spend);
  });

  it("discounts each month's purchases by (1 + d)^month", () => {
    const result = customerLifetimeValue(bgNbd, gammaGamma, customer1516, yearOfMonths);
    let byHand = 0;
    for (let month = 1; month <= 12; month++) {
      const inMonth =
        conditionalExpectedPurchases(bgNbd, customer1516, month * WEEKS_PER_MONTH) -
        conditionalExpectedPurchases(bgNbd, customer1516, (month - 1) * WEEKS_PER_MONTH);
      byHand += inMonth / 1.01 ** month;
    }
    expect(relativeError(result.clv, byHand * result.expectedAverageSpend)).toBeLessThan(1e-12);
    const undiscounted = customerLifetimeValue(bgNbd, gammaGamma, customer1516, { ...yearOfMonths, discountRatePerPeriod: 0 });
    expect(result.clv).toBeLessThan(undiscounted.clv);
    expect(result.clv).toBeGreaterThan(undiscounted.clv / 1.01 ** 12);
  });

  it("scales with the margin, is 0 over no periods, and grows with the horizon", () => {
    const revenue = customerLifetimeValue(bgNbd, gammaGamma, customer1, yearOfMonths).clv;
    const profit = customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, margin: 0.3 }).clv;
    expect(profit).toBeCloseTo(0.3 * revenue, 10);
    expect(customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, periods: 0 }).clv).toBe(0);
    expect(customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, periods: 24 }).clv).toBeGreaterThan(revenue);
  });

  it("does not depend on the time unit the models were fitted in", () => {
    const inWeeks = customerLifetimeValue(bgNbd, gammaGamma, customer1516, yearOfMonths);
    const inDays = customerLifetimeValue(
      { ...bgNbd, alpha: 7 * bgNbd.alpha },
      gammaGamma,
      { ...customer1516, tx: 7 * customer1516.tx, T: 7 * customer1516.T },
      { ...yearOfMonths, periodLength: DAYS_PER_MONTH },
    );
    expect(relativeError(inDays.clv, inWeeks.clv)).toBeLessThan(1e-10);
  });

  it("values a loyal, recent buyer above an occasional one and a lapsed heavy buyer near nothing", () => {
    const loyal = customerLifetimeValue(bgNbd, gammaGamma, customer1516, yearOfMonths);
    const occasional = customerLifetimeValue(bgNbd, gammaGamma, customer1, yearOfMonths);
    const lapsed = customerLifetimeValue(bgNbd, gammaGamma, { x: 26, tx: 5, T: 38, mx: 32.9 }, yearOfMonths);
    expect(loyal.clv).toBeGreaterThan(10 * occasional.clv);
    expect(lapsed.probabilityAlive).toBeLessThan(1e-6);
    expect(lapsed.clv).toBeLessThan(1e-3);
  });

  it("gives a customer who never came back the population's spend per purchase", () => {
    const result = customerLifetimeValue(bgNbd, gammaGamma, { x: 0, tx: 0, T: 38.86, mx: 0 }, yearOfMonths);
    expect(result.expectedAverageSpend).toBeCloseTo((gammaGamma.gamma * gammaGamma.p) / (gammaGamma.q - 1), 12);
    expect(result.probabilityAlive).toBe(1);
  });

  it("rejects a fractional number of periods or a non-positive period", () => {
    expect(() => customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, periods: 1.5 })).toThrow(RangeError);
    expect(() => customerLifetimeValue(bgNbd, gammaGamma, customer1, { ...yearOfMonths, periodLength: 0 })).toThrow(RangeError);
  });
});

describe("lifecycleStage", () => {
  const steady: LifecycleInput = {
    daysSinceEnrolment: 400,
    daysSinceLastPurchase: 10,
    probabilityAlive: 0.9,
    clvPercentile: 50,
    purchasedAfterDormantGap: false,
  };

  it.each<[string, string, Partial<LifecycleInput>]>([
    ["an ordinary regular", "active", {}],
    ["a top-decile regular", "vip", { clvPercentile: 95 }],
    ["a regular in the top-N list", "vip", { isTopClv: true }],
    ["a regular the model thinks is slipping away", "at_risk", { probabilityAlive: 0.3 }],
    ["a VIP slipping away (at risk wins)", "at_risk", { probabilityAlive: 0.3, clvPercentile: 99 }],
    ["a member the model thinks is gone", "dormant", { probabilityAlive: 0.05 }],
    ["a member silent for 200 days", "dormant", { daysSinceLastPurchase: 200 }],
    ["a member who enrolled last week", "new", { daysSinceEnrolment: 7, daysSinceLastPurchase: 7 }],
    ["a new member who has not bought yet", "new", { daysSinceEnrolment: 7, daysSinceLastPurchase: null }],
    ["a member who never bought in 90 days", "at_risk", { daysSinceEnrolment: 90, daysSinceLastPurchase: null }],
    ["a member who never bought in a year", "dormant", { daysSinceEnrolment: 365, daysSinceLastPurchase: null }],
    ["a member back after a dormant gap last week", "reactivated", { purchasedAfterDormantGap: true, daysSinceLastPurchase: 5 }],
    ["a member back after a dormant gap 60 days ago", "active", { purchasedAfterDormantGap: true, daysSinceLastPurchase: 60 }],
  ])("%s is %s", (_, stage, change) => {
    expect(lifecycleStage({ ...steady, ...change })).toBe(stage);
  });

  it("takes the program's own thresholds", () => {
    expect(lifecycleStage({ ...steady, clvPercentile: 85 }, { vipFromClvPercentile: 80 })).toBe("vip");
    expect(lifecycleStage({ ...steady, daysSinceLastPurchase: 100 }, { dormantAfterDays: 90 })).toBe("dormant");
    expect(lifecycleStage({ ...steady, daysSinceEnrolment: 60 }, { newForDays: 90 })).toBe("new");
  });
});
