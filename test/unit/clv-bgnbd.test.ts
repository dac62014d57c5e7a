import { describe, expect, it } from "vitest";
import {
  bgNbdLogLikelihood,
  compressCustomers,
  conditionalExpectedPurchases,
  expectedPurchases,
  fitBgNbd,
  probabilityAlive,
  type BgNbdCustomer,
  type BgNbdParams,
} from "../../src/domain/clv/bgnbd.ts";
import { mulberry32 } from "../../src/domain/prng.ts";
import { loadCbs, loadCumulativeTracking } from "../helpers/cdnow.ts";

const relativeError = (value: number, expected: number) => Math.abs(value / expected - 1);

const cbs = loadCbs();
const fit = fitBgNbd(cbs);
/** Customer 1516 of the sample: x = 26, t_x = 30.857, T = 31. */
const customer1516 = cbs[1515] as BgNbdCustomer;

describe("BG/NBD fitted on the CDNOW calibration summary (Fader, Hardie & Lee 2005)", () => {
  it("reproduces the published parameters and log-likelihood", () => {
    expect(relativeError(fit.r, 0.2426)).toBeLessThan(5e-4);
    expect(relativeError(fit.alpha, 4.4137)).toBeLessThan(5e-4);
    expect(relativeError(fit.a, 0.793)).toBeLessThan(5e-4);
    expect(relativeError(fit.b, 2.426)).toBeLessThan(5e-4);
    expect(Math.abs(fit.logLikelihood - -9582.429)).toBeLessThan(0.005);
    expect(fit.iterations).toBeGreaterThan(0);
  });

  it("reports the same log-likelihood as the per-customer function summed", () => {
    const summed = cbs.reduce((sum, customer) => sum + bgNbdLogLikelihood(fit, customer), 0);
    expect(summed).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("expects 1.226 purchases in 39 weeks from x = 2, t_x = 30.43, T = 38.86 (Hardie's note 004)", () => {
    expect(conditionalExpectedPurchases(fit, { x: 2, tx: 30.43, T: 38.86 }, 39).toPrecision(4)).toBe("1.226");
  });

  it("expects 25.757 purchases in 52 weeks from customer 1516, alive with P = 0.9689", () => {
    expect(customer1516).toMatchObject({ x: 26, T: 31 });
    expect(customer1516.tx).toBeCloseTo(30.857, 3);
    expect(relativeError(conditionalExpectedPurchases(fit, customer1516, 52), 25.757)).toBeLessThan(5e-5);
    expect(relativeError(probabilityAlive(fit, customer1516), 0.9689)).toBeLessThan(5e-5);
  });

  it("expects 1.444 purchases in a new customer's first 52 weeks", () => {
    expect(expectedPurchases(fit, 52).toPrecision(4)).toBe("1.444");
  });

  it("forecasts ≈ 4,166 cumulative repeat purchases by week 78, about 4% under the actual 4,339", () => {
    // The tracking weeks count from 1997-01-01, so at the end of week 78 a customer whose first
    // purchase was on day d of 1997 has been a customer for 78 − d/7 weeks; d/7 = max(T) − T.
    const firstCohortT = Math.max(...cbs.map((c) => c.T));
    const byWeek78 = cbs.reduce((sum, c) => sum + expectedPurchases(fit, c.T + 78 - firstCohortT), 0);
    expect(Math.abs(byWeek78 / 4166 - 1)).toBeLessThan(0.01);
    // Measured to the holdout end instead (1998-06-30, T + 39 weeks) it is 4,161: still within 1%.
    const byHoldoutEnd = cbs.reduce((sum, c) => sum + expectedPurchases(fit, c.T + 39), 0);
    expect(Math.abs(byHoldoutEnd / 4166 - 1)).toBeLessThan(0.01);

    const actual = loadCumulativeTracking()[77] ?? Number.NaN;
    expect(actual).toBe(4339);
    expect(actual).toBe(cbs.reduce((sum, c) => sum + c.x + c.xStar, 0));
    expect(byWeek78 / actual - 1).toBeCloseTo(-0.04, 2);
  });

  it("gives the same fit from compressed groups and is deterministic", () => {
    const groups = compressCustomers(cbs);
    expect(groups.length).toBeLessThan(cbs.length);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(cbs.length);
    expect(fitBgNbd(groups)).toEqual(fit);

    // Weighting every customer twice leaves the maximum where it was and doubles the likelihood.
    const doubled = fitBgNbd(groups.map((g) => ({ ...g, count: 2 * g.count })));
    expect(doubled.r).toBe(fit.r);
    expect(doubled.logLikelihood).toBeCloseTo(2 * fit.logLikelihood, 6);
  });

  it("scales α, and only α, with the time unit", () => {
    const inDays = fitBgNbd(cbs.map((c) => ({ x: c.x, tx: c.tx * 7, T: c.T * 7 })));
    expect(relativeError(inDays.alpha, 7 * fit.alpha)).toBeLessThan(1e-5);
    expect(relativeError(inDays.r, fit.r)).toBeLessThan(1e-5);
    expect(relativeError(inDays.a, fit.a)).toBeLessThan(1e-5);
    expect(relativeError(inDays.b, fit.b)).toBeLessThan(1e-5);
    const inDaysCustomer = { x: 26, tx: customer1516.tx * 7, T: 217 };
    expect(conditionalExpectedPurchases(inDays, inDaysCustomer, 52 * 7)).toBeCloseTo(25.757, 3);
  });
});

describe("BG/NBD properties", () => {
  const params: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.426 };

  it("has P(alive) exactly 1 when x = 0, and within [0, 1] always", () => {
    expect(probabilityAlive(params, { x: 0, tx: 0, T: 38.86 })).toBe(1);
    for (const customer of cbs) {
      const p = probabilityAlive(params, customer);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    // A heavy buyer silent for years is as good as gone, without NaN.
    expect(probabilityAlive(params, { x: 500, tx: 10, T: 1000 })).toBe(0);
  });

  it("expects more purchases over longer horizons, and none over none", () => {
    expect(expectedPurchases(params, 0)).toBe(0);
    for (const customer of [...cbs.slice(0, 6), customer1516]) {
      expect(conditionalExpectedPurchases(params, customer, 0)).toBe(0);
      let previous = 0;
      for (const t of [1, 4, 13, 26, 52, 104, 260]) {
        const expected = conditionalExpectedPurchases(params, customer, t);
        expect(expected).toBeGreaterThan(previous);
        previous = expected;
      }
    }
    let previous = 0;
    for (const t of [1, 4, 13, 26, 52, 104, 260]) {
      const expected = expectedPurchases(params, t);
      expect(expected).toBeGreaterThan(previous);
      previous = expected;
    }
  });

  it("treats a customer with no history yet as a new customer (eq. 10 reduces to eq. 7)", () => {
    for (const t of [1, 39, 52, 200]) {
      const fromNothing = conditionalExpectedPurchases(params, { x: 0, tx: 0, T: 0 }, t);
      expect(relativeError(fromNothing, expectedPurchases(params, t))).toBeLessThan(1e-12);
    }
  });

  it("stays finite for very frequent buyers, where ₂F₁ is far beyond a double", () => {
    const heavy = { x: 400, tx: 52, T: 52 };
    const expected = conditionalExpectedPurchases(params, heavy, 52);
    // Alive and buying about (r + x)/(α + T) a week, less the chance of dropping out on the way.
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan((52 * (params.r + heavy.x)) / (params.alpha + heavy.T));
    expect(expected).toBeGreaterThan(100);
  });

  it("copes with a = 1, where eqs. 7 and 10 have a removable singularity", () => {
    const nearOne = { ...params, a: 1 };
    const below = expectedPurchases({ ...params, a: 1 - 1e-5 }, 52);
    const above = expectedPurchases({ ...params, a: 1 + 1e-5 }, 52);
    expect(relativeError(expectedPurchases(nearOne, 52), (below + above) / 2)).toBeLessThan(1e-5);
    expect(Number.isFinite(conditionalExpectedPurchases(nearOne, customer1516, 52))).toBe(true);
  });

  it("rejects impossible histories", () => {
    expect(() => fitBgNbd([{ x: 2, tx: 0, T: 10 }])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: 1, tx: 12, T: 10 }])).toThrow(RangeError);
    expect(() => fitBgNbd([])).toThrow(RangeError);
  });

  it("recovers the parameters it simulated 10,000 customers from", () => {
    const truth: BgNbdParams = { r: 0.5, alpha: 10, a: 0.8, b: 2.5 };
    const customers = simulateBgNbd(truth, 10_000, 52, mulberry32(4));
    const recovered = fitBgNbd(customers);
    expect(relativeError(recovered.r, truth.r)).toBeLessThan(0.1);
    expect(relativeError(recovered.alpha, truth.alpha)).toBeLessThan(0.1);
    expect(relativeError(recovered.a, truth.a)).toBeLessThan(0.25);
    expect(relativeError(recovered.b, truth.b)).toBeLessThan(0.25);
    const atTruth = customers.reduce((sum, c) => sum + bgNbdLogLikelihood(truth, c), 0);
    expect(recovered.logLikelihood).toBeGreaterThanOrEqual(atTruth);
  });
});

/** Customers drawn from the BG/NBD story itself, each observed for T time units after a first purchase. */
function simulateBgNbd(params: BgNbdParams, count: number, T: number, random: () => number): BgNbdCustomer[] {
  const gamma = gammaSampler(random);
  const customers: BgNbdCustomer[] = [];
  for (let i = 0; i < count; i++) {
    const rate = gamma(params.r) / params.alpha;
    const fromA = gamma(params.a);
    const dropout = fromA / (fromA + gamma(params.b));
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += -Math.log(1 - random()) / rate;
      if (t > T) break;
      x++;
      tx = t;
      if (random() < dropout) break;
    }
    customers.push({ x, tx, T });
  }
  return customers;
}

/** Gamma(shape, 1) variates by Marsaglia & Tsang (2000), boosted for shape < 1. */
function gammaSampler(random: () => number): (shape: number) => number {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const sample = (shape: number): number => {
    if (shape < 1) return sample(shape + 1) * random() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = normal();
      const v = (1 + c * z) ** 3;
      if (v <= 0) continue;
      if (Math.log(random()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return sample;
}
