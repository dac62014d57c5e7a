import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSummaryAccumulator } from "../../src/domain/clv/summary-stream.ts";
import { summarizeTransactions, type SummaryOptions, type Transaction } from "../../src/domain/clv/summary.ts";
import { loadRawPurchases } from "../helpers/cdnow.ts";

const at = (iso: string) => Date.parse(iso);

function accumulate<Id>(log: Iterable<Transaction<Id>>) {
  const accumulator = createSummaryAccumulator<Id>();
  for (const transaction of log) accumulator.add(transaction);
  return accumulator;
}

describe("createSummaryAccumulator", () => {
  const cdnow: Transaction[] = loadRawPurchases().map((p) => ({ customerId: p.masterId, at: p.at, amount: p.dollars }));
  const cdnowOptions: SummaryOptions = { calibrationEndAt: at("1997-09-30"), holdoutEndAt: at("1998-06-30") };

  it.each([
    ["weeks with a holdout", cdnowOptions],
    ["days with a holdout", { ...cdnowOptions, timeUnit: "day" as const }],
    ["weeks without a holdout", { calibrationEndAt: at("1997-09-30") }],
    ["a calibration that ends mid-cohort", { calibrationEndAt: at("1997-02-15"), holdoutEndAt: at("1997-12-31") }],
  ])("gives exactly summarizeTransactions' CDNOW summaries in %s", (_, options) => {
    expect(accumulate(cdnow).summarize(options)).toEqual(summarizeTransactions(cdnow, options));
  });

  it("gives them whatever the order of the log, in order of first appearance", () => {
    // Reversed, every customer's days arrive newest first and take the sorting path.
    const reversed = [...cdnow].reverse();
    expect(accumulate(reversed).summarize(cdnowOptions)).toEqual(summarizeTransactions(reversed, cdnowOptions));
  });

  it("counts customers, transactions and the log's first and last day", () => {
    const accumulator = accumulate(cdnow);
    expect(accumulator.customerCount).toBe(2357);
    expect(accumulator.transactionCount).toBe(6919);
    expect(accumulator.firstPurchaseAt).toBe(at("1997-01-01"));
    expect(accumulator.lastPurchaseAt).toBe(at("1998-06-30"));
    expect(createSummaryAccumulator().lastPurchaseAt).toBeUndefined();
  });

  it("agrees with summarizeTransactions on any log, sorted or not", () => {
    const day = 86_400_000;
    const logArbitrary = fc.array(
      fc.record({
        customerId: fc.constantFrom("a", "b", "c", "d"),
        at: fc.integer({ min: 0, max: 60 * day }),
        amountMinor: fc.integer({ min: 0, max: 100_000 }),
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(logArbitrary, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 20 }), (log, calibrationDay, holdoutDays) => {
        const options = { calibrationEndAt: calibrationDay * day, holdoutEndAt: (calibrationDay + holdoutDays) * day };
        expect(accumulate(log).summarize(options)).toEqual(summarizeTransactions(log, options));
      }),
    );
  });

  it("rejects what summarizeTransactions rejects", () => {
    expect(() => createSummaryAccumulator().add({ customerId: "x", at: Number.NaN, amount: 1 })).toThrow(RangeError);
    expect(() => accumulate(cdnow).summarize({ calibrationEndAt: at("1997-09-30"), holdoutEndAt: at("1997-01-01") })).toThrow(RangeError);
  });
});
