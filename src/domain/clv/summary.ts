/**
 * Turns a transaction log into the per-customer summaries the CLV models fit on: repeat purchases x,
 * recency t_x, age T, mean repeat spend m_x, and optionally holdout purchases x*. These are the
 * conventions of Fader, Hardie & Lee (2005) and of the CDNOW reference data: purchases on the same
 * (UTC) day count as one, and the first purchase is not a repeat purchase.
 *
 * The summaries are built one transaction at a time (createSummaryAccumulator), keeping only each
 * customer's purchase days and the spend on each: a log too large to hold as an array (a file read
 * line by line) is summarised the same way, and the calibration and holdout dates may be chosen
 * after the log has been read (e.g. defaulting to its last date).
 */

const MS_PER_DAY = 86_400_000;

/** The unit t_x, T and every model horizon are measured in. */
export type TimeUnit = "week" | "day";

/** Days in one time unit. */
export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { week: 7, day: 1 };

/** One purchase. Give its value in minor units or as a decimal amount, the same way for the whole log. */
export type Transaction<Id = string> = {
  customerId: Id;
  /** When it happened, epoch milliseconds; only its UTC date matters. */
  at: number;
} & ({ amountMinor: number; amount?: undefined } | { amount: number; amountMinor?: undefined });

export interface SummaryOptions {
  /** Last moment of calibration, epoch ms: purchases on or before its UTC date are calibration. */
  calibrationEndAt: number;
  /** Last moment of the holdout, epoch ms: purchases after calibration, up to its UTC date, count as x*. */
  holdoutEndAt?: number;
  /** Default "week" (days / 7), as in the BG/NBD papers. */
  timeUnit?: TimeUnit;
}

export interface CustomerSummary<Id = string> {
  customerId: Id;
  /** Repeat purchase days in calibration (purchase days after the first). */
  x: number;
  /** Time from the first purchase day to the last calibration purchase day; 0 when x = 0. */
  tx: number;
  /** Time from the first purchase day to the calibration end date. */
  T: number;
  /** Mean value of the x repeat purchase days (same-day purchases summed), in the log's money unit; 0 when x = 0. */
  mx: number;
  /** UTC midnight of the first purchase day, epoch ms. */
  firstPurchaseAt: number;
  /** Repeat purchase days in the holdout; present only when `holdoutEndAt` was given. */
  xHoldout?: number;
}

/**
 * Per-customer calibration summaries (and holdout counts) from a transaction log, in order of each
 * customer's first appearance in the log. Customers whose first purchase falls after the calibration
 * end are left out: they have no calibration history to fit or score.
 */
export function summarizeTransactions<Id>(
  transactions: Iterable<Transaction<Id>>,
  options: SummaryOptions,
): CustomerSummary<Id>[] {
  const accumulator = createSummaryAccumulator<Id>();
  for (const transaction of transactions) accumulator.add(transaction);
  return accumulator.summarize(options);
}

/** A customer's purchase days and the spend on each, in log order; a day repeats only when the log is not in date order. */
interface CustomerDays {
  days: number[];
  spends: number[];
  inOrder: boolean;
}

export interface SummaryAccumulator<Id = string> {
  /** Adds one purchase; throws a RangeError on a non-finite time or value. */
  add(transaction: Transaction<Id>): void;
  /** Distinct customers so far, whatever their dates. */
  readonly customerCount: number;
  /** Transactions added so far. */
  readonly transactionCount: number;
  /** UTC midnight of the earliest and latest purchase day so far, epoch ms; undefined before the first. */
  readonly firstPurchaseAt: number | undefined;
  readonly lastPurchaseAt: number | undefined;
  /** The per-customer summaries of the transactions added so far (see SummaryOptions). */
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

/** Days in ascending order, each once, with its spend summed in log order (as a sorted log would sum it). */
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
