/**
 * The same per-customer summaries as {@link summarizeTransactions}, built one transaction at a time:
 * for logs too large to hold as an array (a file read line by line). Only what the summary needs is
 * kept: each customer's purchase days and the spend on each, never the transactions themselves.
 * The calibration and holdout dates are chosen after the log has been read, so a caller can default
 * them to the log's own last date.
 */
import { DAYS_PER_UNIT, type CustomerSummary, type SummaryOptions, type Transaction } from "./summary.ts";

const MS_PER_DAY = 86_400_000;

/** A customer's purchase days and the spend on each, in log order; a day repeats only when the log is not in date order. */
interface CustomerDays {
  days: number[];
  spends: number[];
  inOrder: boolean;
}

export interface SummaryAccumulator<Id = string> {
  /** Adds one purchase; throws a RangeError, as summarizeTransactions does, on a non-finite time or value. */
  add(transaction: Transaction<Id>): void;
  /** Distinct customers so far, whatever their dates. */
  readonly customerCount: number;
  /** Transactions added so far. */
  readonly transactionCount: number;
  /** UTC midnight of the earliest and latest purchase day so far, epoch ms; undefined before the first. */
  readonly firstPurchaseAt: number | undefined;
  readonly lastPurchaseAt: number | undefined;
  /** The summaries summarizeTransactions would give for the transactions added so far. */
  summarize(options: SummaryOptions): CustomerSummary<Id>[];
}

/** An empty accumulator; see {@link SummaryAccumulator}. */
export function createSummaryAccumulator<Id = string>(): SummaryAccumulator<Id> {
  const byCustomer = new Map<Id, CustomerDays>();
  let transactionCount = 0;
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;

  return {
    add(transaction) {
      const value = transaction.amountMinor ?? transaction.amount;
      if (!Number.isFinite(transaction.at) || !Number.isFinite(value)) {
        throw new RangeError(`transaction of customer ${String(transaction.customerId)} needs a finite time and value`);
      }
      const day = Math.floor(transaction.at / MS_PER_DAY);
      transactionCount++;
      if (day < firstDay) firstDay = day;
      if (day > lastDay) lastDay = day;
      const customer = byCustomer.get(transaction.customerId);
      if (!customer) {
        byCustomer.set(transaction.customerId, { days: [day], spends: [value], inOrder: true });
        return;
      }
      const last = customer.days.length - 1;
      const lastCustomerDay = customer.days[last] ?? day;
      // Logs sorted by date (the usual case) merge same-day purchases here and never need sorting.
      if (day === lastCustomerDay) customer.spends[last] = (customer.spends[last] ?? 0) + value;
      else {
        if (day < lastCustomerDay) customer.inOrder = false;
        customer.days.push(day);
        customer.spends.push(value);
      }
    },
    get customerCount() {
      return byCustomer.size;
    },
    get transactionCount() {
      return transactionCount;
    },
    get firstPurchaseAt() {
      return transactionCount > 0 ? firstDay * MS_PER_DAY : undefined;
    },
    get lastPurchaseAt() {
      return transactionCount > 0 ? lastDay * MS_PER_DAY : undefined;
    },
    summarize(options) {
      const unitDays = DAYS_PER_UNIT[options.timeUnit ?? "week"];
      const calibrationEndDay = Math.floor(options.calibrationEndAt / MS_PER_DAY);
      const holdoutEndDay = options.holdoutEndAt === undefined ? undefined : Math.floor(options.holdoutEndAt / MS_PER_DAY);
      if (holdoutEndDay !== undefined && holdoutEndDay < calibrationEndDay) {
        throw new RangeError("the holdout must end on or after the calibration end");
      }
      const summaries: CustomerSummary<Id>[] = [];
      for (const [customerId, customer] of byCustomer) {
        const { days, spends } = customer.inOrder ? customer : mergeDays(customer);
        const firstCustomerDay = days[0];
        if (firstCustomerDay === undefined || firstCustomerDay > calibrationEndDay) continue;
        let x = 0;
        let lastRepeatDay = firstCustomerDay;
        let repeatSpend = 0;
        let xHoldout = 0;
        for (let i = 1; i < days.length; i++) {
          const day = days[i] ?? 0;
          if (day <= calibrationEndDay) {
            x++;
            lastRepeatDay = day;
            repeatSpend += spends[i] ?? 0;
          } else if (holdoutEndDay !== undefined && day <= holdoutEndDay) xHoldout++;
        }
        const summary: CustomerSummary<Id> = {
          customerId,
          x,
          tx: (lastRepeatDay - firstCustomerDay) / unitDays,
          T: (calibrationEndDay - firstCustomerDay) / unitDays,
          mx: x > 0 ? repeatSpend / x : 0,
          firstPurchaseAt: firstCustomerDay * MS_PER_DAY,
        };
        if (holdoutEndDay !== undefined) summary.xHoldout = xHoldout;
        summaries.push(summary);
      }
      return summaries;
    },
  };
}

/** Days in ascending order, each once, with its spend summed in log order (as summarizeTransactions sums it). */
function mergeDays({ days, spends }: CustomerDays): { days: number[]; spends: number[] } {
  // A stable sort of positions keeps same-day spends in log order, so the sums match to the bit.
  const order = days.map((_, i) => i).sort((i, j) => (days[i] ?? 0) - (days[j] ?? 0));
  const merged = { days: [] as number[], spends: [] as number[] };
  for (const i of order) {
    const day = days[i] ?? 0;
    const last = merged.days.length - 1;
    if (merged.days[last] === day) merged.spends[last] = (merged.spends[last] ?? 0) + (spends[i] ?? 0);
    else {
      merged.days.push(day);
      merged.spends.push(spends[i] ?? 0);
    }
  }
  return merged;
}
