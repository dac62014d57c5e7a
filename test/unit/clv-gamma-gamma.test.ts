import { describe, expect, it } from "vitest";
import {
  expectedAverageSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  type SpendHistory,
} from "../../src/domain/clv/gamma-gamma.ts";
import { loadCbs, loadMeanRepeatSpend } from "../helpers/cdnow.ts";

const relativeError = (value: number, expected: number) => Math.abs(value / expected - 1);

const meanRepeatSpend = loadMeanRepeatSpend();
/** Every CDNOW customer in file order, with x from the cbs file and m_x from the m.x file. */
const customers: SpendHistory[] = loadCbs().map((c, i) => ({ x: c.x, mx: meanRepeatSpend[i] ?? Number.NaN }));
const fit = fitGammaGamma(customers);

describe("Gamma-Gamma fitted on CDNOW's mean repeat spend (Fader, Hardie & Lee 2005)", () => {
  it("fits the 946 customers with x > 0 and skips the rest", () => {
    expect(customers.filter((c) => c.x > 0)).toHaveLength(946);
    expect(fitGammaGamma(customers.filter((c) => c.x > 0))).toEqual(fit);
  });

  it("reproduces p = 6.25, q = 3.74, γ = 15.44 and log-likelihood −4055.918", () => {
    expect(fit.p.toPrecision(3)).toBe("6.25");
    expect(fit.q.toPrecision(3)).toBe("3.74");
    expect(fit.gamma.toPrecision(4)).toBe("15.44");
    expect(Math.abs(fit.logLikelihood - -4055.918)).toBeLessThan(5e-4);
  });

  it("reports the same log-likelihood as the per-customer density summed", () => {
    const summed = customers
      .filter((c) => c.x > 0)
      .reduce((sum, customer) => sum + gammaGammaLogLikelihood(fit, customer), 0);
    expect(summed).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("expects 24.7, 18.9, 35.2, 35.2, 35.2, 71.5 from the first six customers in file order", () => {
    // Customers 3–5 have x = 0 and get the population mean γp/(q − 1).
    const spends = customers.slice(0, 6).map((c) => expectedAverageSpend(fit, c.x, c.mx));
    expect(spends.map((s) => s.toPrecision(3))).toEqual(["24.7", "18.9", "35.2", "35.2", "35.2", "71.5"]);
    expect(spends.map((s) => s.toFixed(2))).toEqual(["24.65", "18.91", "35.17", "35.17", "35.17", "71.46"]);
    expect(spends[2]).toBeCloseTo((fit.gamma * fit.p) / (fit.q - 1), 12);
  });

  it("gives exactly the published 24.66, 18.91, 35.17, 71.46 from m_x rounded to cents (lifetimes' copy)", () => {
    const inCents = customers.map((c) => ({ x: c.x, mx: Math.round(c.mx * 100) / 100 }));
    const centsFit = fitGammaGamma(inCents);
    const spends = inCents.slice(0, 6).map((c) => expectedAverageSpend(centsFit, c.x, c.mx).toFixed(2));
    expect(spends).toEqual(["24.66", "18.91", "35.17", "35.17", "35.17", "71.46"]);
  });
});

describe("Gamma-Gamma properties", () => {
  it("shrinks a customer's own mean towards the population mean, less so the more they bought", () => {
    const populationMean = (fit.gamma * fit.p) / (fit.q - 1);
    let previousGap = Number.POSITIVE_INFINITY;
    for (const x of [1, 2, 5, 20, 100]) {
      const spend = expectedAverageSpend(fit, x, 100);
      expect(spend).toBeGreaterThan(populationMean);
      expect(spend).toBeLessThan(100);
      expect(100 - spend).toBeLessThan(previousGap);
      previousGap = 100 - spend;
    }
  });

  it("scales γ with the money unit and leaves p and q alone (₩ in minor units, × 1,000)", () => {
    const inMinor = fitGammaGamma(customers.map((c) => ({ x: c.x, mx: c.mx * 1000 })));
    expect(relativeError(inMinor.gamma, 1000 * fit.gamma)).toBeLessThan(1e-5);
    expect(relativeError(inMinor.p, fit.p)).toBeLessThan(1e-5);
    expect(relativeError(inMinor.q, fit.q)).toBeLessThan(1e-5);
  });

  it("is infinite for x = 0 when q ≤ 1, where the population mean does not exist", () => {
    expect(expectedAverageSpend({ p: 2, q: 0.9, gamma: 10 }, 0, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it("rejects a repeat buyer without a positive mean spend, and a set with no repeat buyers", () => {
    expect(() => fitGammaGamma([{ x: 2, mx: 0 }])).toThrow(RangeError);
    expect(() => fitGammaGamma([{ x: 0, mx: 0 }])).toThrow(RangeError);
  });
});
