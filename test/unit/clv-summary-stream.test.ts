import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSummaryAccumulator, DAYS_PER_UNIT, type CustomerSummary, type SummaryOptions, type Transaction } from "../../src/domain/clv/summary.ts";
import { loadRawPurchases } from "../helpers/cdnow.ts";

const at = (iso: string) => Date.parse(iso);
const DAY_MS = 86_400_000;

/**
 * The summaries the plain way, as a test oracle: every transaction held, days sorted, same-day spend
 * summed in log order. summarizeTransactions is the accumulator itself, so the accumulator is held to this.
 */
function summarizeTransactions<Id>(log: Iterable<Transaction<Id>>, options: SummaryOptions): CustomerSummary<Id>[] {
  const unitDays = DAYS_PER_UNIT[options.timeUnit ?? "week"];
  const calibrationEndDay = Math.floor(options.calibrationEndAt / DAY_MS);
  const holdoutEndDay = options.holdoutEndAt === undefined ? undefined : Math.floor(options.holdoutEndAt / DAY_MS);
  const spendByDayByCustomer = new Map<Id, Map<number, number>>();
  for (const t of log) {
    let spendByDay = spendByDayByCustomer.get(t.customerId);
    if (!spendByDay) spendByDayByCustomer.set(t.customerId, (spendByDay = new Map()));
    const day = Math.floor(t.at / DAY_MS);
    spendByDay.set(day, (spendByDay.get(day) ?? 0) + (t.amountMinor ?? t.amount));
  }
  const summaries: CustomerSummary<Id>[] = [];
  for (const [customerId, spendByDay] of spendByDayByCustomer) {
    const days = [...spendByDay.keys()].sort((u, v) => u - v);
    const firstDay = days[0]!;
    if (firstDay > calibrationEndDay) continue;
    const repeatDays = days.filter((day) => day > firstDay && day <= calibrationEndDay);
    const lastDay = repeatDays.at(-1) ?? firstDay;
    const repeatSpend = repeatDays.reduce((sum, day) => sum + spendByDay.get(day)!, 0);
    const summary: CustomerSummary<Id> = {
      customerId,
      x: repeatDays.length,
      tx: (lastDay - firstDay) / unitDays,
      T: (calibrationEndDay - firstDay) / unitDays,
      mx: repeatDays.length > 0 ? repeatSpend / repeatDays.length : 0,
      firstPurchaseAt: firstDay * DAY_MS,
    };
    if (holdoutEndDay !== undefined) summary.xHoldout = days.filter((day) => day > calibrationEndDay && day <= holdoutEndDay).length;
    summaries.push(summary);
  }
  return summaries;
}

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
