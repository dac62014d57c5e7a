import { describe, expect, it } from "vitest";
import { normalCdf, normalQuantile, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from "../../src/domain/distributions.ts";

describe("normalQuantile", () => {
  it("matches the familiar values", () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489, 12);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 13);
  });

  it("keeps its relative accuracy deep in the tails (references from scipy.stats.norm.ppf)", () => {
    expect(Math.abs(normalQuantile(1e-10) / -6.361340902404056 - 1)).toBeLessThan(1e-13);
    expect(Math.abs(normalQuantile(0.999999) / 4.753424308817087 - 1)).toBeLessThan(1e-12);
  });

  it("inverts normalCdf", () => {
    for (const p of [1e-8, 0.001, 0.1, 0.3, 0.7, 0.9, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
  });

  it("is ±∞ at the ends and NaN outside [0, 1]", () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe("studentTQuantile", () => {
  it.each([
    // Printed tables (e.g. Abramowitz & Stegun Table 26.10): t_0.975(ν).
    [1, 12.706],
    [5, 2.5706],
    [30, 2.0423],
    [Number.POSITIVE_INFINITY, 1.95996],
  ])("t_0.975(%s) = %s", (df, value) => {
    const digits = String(value).split(".")[1]?.length ?? 0;
    expect(studentTQuantile(0.975, df)).toBeCloseTo(value, digits);
  });

  it.each([
    // scipy.stats.t.ppf(p, df), including the fractional ν that Welch–Satterthwaite produces.
    [0.975, 2, 4.302652729749462],
    [0.975, 2.5, 3.5746548420036817],
    [0.975, 7.3, 2.345066736547703],
    [0.995, 3.7, 4.8692522532278275],
    [0.95, 12.9, 1.771983802370333],
    [0.975, 150.5, 1.9758519492008906],
    [0.9995, 4, 8.610301581379522],
    [0.6, 10, 0.2601848294920803],
  ])("t_%s(%s) = %s to 1e-10", (p, df, value) => {
    expect(Math.abs(studentTQuantile(p, df) / value - 1)).toBeLessThan(1e-10);
  });

  it("is odd around ½ and inverts the CDF", () => {
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(studentTQuantile(0.025, 9.4)).toBeCloseTo(-studentTQuantile(0.975, 9.4), 14);
    for (const df of [1.2, 3, 8.5, 40, 1000]) {
      for (const p of [0.001, 0.2, 0.8, 0.975]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
    }
  });

  it("approaches the normal quantile as ν grows", () => {
    expect(Math.abs(studentTQuantile(0.975, 1e6) - 1.959963984540054)).toBeLessThan(1e-5);
    expect(studentTQuantile(0.975, 1e9)).toBe(normalQuantile(0.975));
  });
});

describe("regularizedIncompleteBeta", () => {
  it("has the closed forms I_x(a, 1) = xᵃ and I_x(1, b) = 1 − (1 − x)ᵇ", () => {
    expect(regularizedIncompleteBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 14);
    expect(regularizedIncompleteBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 14);
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });
});
