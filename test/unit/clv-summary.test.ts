import { describe, expect, it } from "vitest";
import { fitBgNbd } from "../../src/domain/clv/bgnbd.ts";
import { summarizeTransactions, type Transaction } from "../../src/domain/clv/summary.ts";
import { loadCbs, loadMeanRepeatSpend, loadRawPurchases } from "../helpers/cdnow.ts";

const relativeError = (value: number, expected: number) => Math.abs(value / expected - 1);
const at = (iso: string) => Date.parse(iso);

describe("summarizeTransactions on the raw CDNOW log", () => {
  const purchases = loadRawPurchases();
  const summaries = summarizeTransactions(
    purchases.map((p) => ({ customerId: p.masterId, at: p.at, amount: p.dollars })),
    { calibrationEndAt: at("1997-09-30T00:00:00Z"), holdoutEndAt: at("1998-06-30T00:00:00Z"), timeUnit: "week" },
  );
  const cbs = loadCbs();
  const meanRepeatSpend = loadMeanRepeatSpend();

  it("reads all 6,919 purchases, $244,091.94 in all", () => {
    expect(purchases).toHaveLength(6919);
    expect(purchases.reduce((sum, p) => sum + p.dollars, 0)).toBeCloseTo(244_091.94, 6);
  });

  it("reproduces BTYD's x, t.x, T.cal, x.star and m.x for all 2,357 customers", () => {
    expect(summaries).toHaveLength(2357);
    summaries.forEach((summary, i) => {
      const expected = cbs[i];
      if (!expected) throw new Error(`no cbs row ${i}`);
      expect(summary.x).toBe(expected.x);
      expect(summary.xHoldout).toBe(expected.xStar);
      expect(Math.abs(summary.tx - expected.tx)).toBeLessThan(1e-6);
      expect(Math.abs(summary.T - expected.T)).toBeLessThan(1e-6);
      expect(Math.abs(summary.mx - (meanRepeatSpend[i] ?? Number.NaN))).toBeLessThan(1e-6);
    });
    expect(summaries.reduce((n, s) => n + s.x, 0)).toBe(2457);
    expect(summaries.reduce((n, s) => n + (s.xHoldout ?? 0), 0)).toBe(1882);
    expect(summaries.filter((s) => s.x === 0)).toHaveLength(1411);
  });

  it("fits the same BG/NBD parameters as the published summary", () => {
    const fromLog = fitBgNbd(summaries);
    const fromCbs = fitBgNbd(cbs);
    expect(relativeError(fromLog.r, fromCbs.r)).toBeLessThan(1e-5);
    expect(relativeError(fromLog.alpha, fromCbs.alpha)).toBeLessThan(1e-5);
    expect(relativeError(fromLog.a, fromCbs.a)).toBeLessThan(1e-5);
    expect(relativeError(fromLog.b, fromCbs.b)).toBeLessThan(1e-5);
    expect(fromLog.logLikelihood).toBeCloseTo(-9582.429, 3);
  });
});

describe("summarizeTransactions conventions", () => {
  const log: Transaction[] = [
    { customerId: "kim", at: at("2026-01-01T09:00:00Z"), amountMinor: 10_000 },
    // Same UTC day, twice: one purchase day worth 15,000.
    { customerId: "kim", at: at("2026-01-15T01:00:00Z"), amountMinor: 5_000 },
    { customerId: "kim", at: at("2026-01-15T23:59:59Z"), amountMinor: 10_000 },
    { customerId: "kim", at: at("2026-01-29T12:00:00Z"), amountMinor: 25_000 },
    // After calibration: holdout.
    { customerId: "kim", at: at("2026-02-02T00:00:00Z"), amountMinor: 1_000 },
    { customerId: "lee", at: at("2026-01-31T18:00:00Z"), amountMinor: 3_000 },
    // First purchase after calibration: not summarised.
    { customerId: "park", at: at("2026-02-03T00:00:00Z"), amountMinor: 3_000 },
  ];
  const options = { calibrationEndAt: at("2026-01-31T00:00:00Z"), holdoutEndAt: at("2026-02-28T00:00:00Z") };

  it("merges same-day purchases, skips the first, and measures in weeks by default", () => {
    const [kim, lee, ...others] = summarizeTransactions(log, options);
    expect(others).toEqual([]);
    expect(kim).toEqual({
      customerId: "kim",
      x: 2,
      tx: 4,
      T: 30 / 7,
      mx: 20_000,
      firstPurchaseAt: at("2026-01-01T00:00:00Z"),
      xHoldout: 1,
    });
    // The calibration end date is inclusive, whatever its time of day.
    expect(lee).toMatchObject({ customerId: "lee", x: 0, tx: 0, T: 0, mx: 0, xHoldout: 0 });
  });

  it("measures in days when asked, and leaves x* out without a holdout", () => {
    const [kim] = summarizeTransactions(log, { calibrationEndAt: options.calibrationEndAt, timeUnit: "day" });
    expect(kim).toMatchObject({ x: 2, tx: 28, T: 30 });
    expect(kim).not.toHaveProperty("xHoldout");
  });

  it("does not depend on the order of the log", () => {
    const forwards = summarizeTransactions(log, options);
    const backwards = summarizeTransactions([...log].reverse(), options);
    const byId = (s: { customerId: string }, t: { customerId: string }) => s.customerId.localeCompare(t.customerId);
    expect([...backwards].sort(byId)).toEqual([...forwards].sort(byId));
  });

  it("rejects a holdout that ends before calibration, and non-finite values", () => {
    const holdoutFirst = { calibrationEndAt: options.calibrationEndAt, holdoutEndAt: at("2026-01-01T00:00:00Z") };
    expect(() => summarizeTransactions(log, holdoutFirst)).toThrow(RangeError);
    expect(() => summarizeTransactions([{ customerId: "x", at: Number.NaN, amount: 1 }], options)).toThrow(RangeError);
  });
});
