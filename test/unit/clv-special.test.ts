import { describe, expect, it } from "vitest";
import { logBeta, logGamma, logSumExp } from "../../src/domain/clv/special.ts";

const relativeError = (value: number, expected: number) => Math.abs(value / expected - 1);

describe("logGamma", () => {
  it("is ln((n−1)!) at the integers", () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      if (n > 1) logFactorial += Math.log(n - 1);
      expect(Math.abs(logGamma(n) - logFactorial)).toBeLessThan(1e-13 * Math.max(1, logFactorial));
    }
  });

  it("is exact enough at half-integers, where Γ(½) = √π", () => {
    expect(relativeError(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
    // Γ(10.5) = 1133278.3889487855…
    expect(relativeError(logGamma(10.5), Math.log(1133278.3889487855))).toBeLessThan(1e-14);
  });

  it("matches 30-digit references for small, mid and large arguments", () => {
    // References from mpmath.loggamma at 40 digits.
    expect(relativeError(logGamma(0.2426), 1.3197854750907922)).toBeLessThan(1e-14);
    expect(relativeError(logGamma(26.2426), 58.790474382728076)).toBeLessThan(1e-14);
    expect(relativeError(logGamma(1e6), 12815504.569147612)).toBeLessThan(1e-14);
  });

  it("reflects below ½: ln|Γ(−0.5)| = ln(2√π), and is +∞ at the poles", () => {
    expect(relativeError(logGamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)))).toBeLessThan(1e-14);
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-3)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("logBeta", () => {
  it("is symmetric and matches B(a, b) = Γ(a)Γ(b)/Γ(a+b)", () => {
    expect(logBeta(0.793, 2.426)).toBeCloseTo(logBeta(2.426, 0.793), 14);
    // B(2, 3) = 1/12
    expect(relativeError(logBeta(2, 3), -Math.log(12))).toBeLessThan(1e-14);
  });
});

describe("logSumExp", () => {
  it("adds in log space without overflow", () => {
    expect(logSumExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 15);
    expect(logSumExp(Number.NEGATIVE_INFINITY, 7)).toBe(7);
  });
});
