/**
 * Turns a transaction log into the per-customer summaries the CLV models fit on: repeat purchases x,
 * recency t_x, age T, mean repeat spend m_x, and optionally holdout purchases x*. These are the
 * conventions of Fader, Hardie & Lee (2005) and of the CDNOW reference data: purchases on the same
 * (UTC) day count as one, and the first purchase is not a repeat purchase.
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
  const unitDays = DAYS_PER_UNIT[options.timeUnit ?? "week"];
  const calibrationEndDay = utcDay(options.calibrationEndAt);
  const holdoutEndDay = options.holdoutEndAt === undefined ? undefined : utcDay(options.holdoutEndAt);
  if (holdoutEndDay !== undefined && holdoutEndDay < calibrationEndDay) {
    throw new RangeError("the holdout must end on or after the calibration end");
  }

  const spendByDayByCustomer = new Map<Id, Map<number, number>>();
  for (const transaction of transactions) {
    const value = transaction.amountMinor ?? transaction.amount;
    if (!Number.isFinite(transaction.at) || !Number.isFinite(value)) {
      throw new RangeError(`transaction of customer ${String(transaction.customerId)} needs a finite time and value`);
    }
    let spendByDay = spendByDayByCustomer.get(transaction.customerId);
    if (!spendByDay) spendByDayByCustomer.set(transaction.customerId, (spendByDay = new Map()));
    const day = utcDay(transaction.at);
    spendByDay.set(day, (spendByDay.get(day) ?? 0) + value);
  }

  const summaries: CustomerSummary<Id>[] = [];
  for (const [customerId, spendByDay] of spendByDayByCustomer) {
    const days = [...spendByDay.keys()].sort((u, v) => u - v);
    const firstDay = days[0];
    if (firstDay === undefined || firstDay > calibrationEndDay) continue;
    const repeatDays = days.filter((day) => day > firstDay && day <= calibrationEndDay);
    const lastDay = repeatDays[repeatDays.length - 1] ?? firstDay;
    const repeatSpend = repeatDays.reduce((sum, day) => sum + (spendByDay.get(day) ?? 0), 0);
    const summary: CustomerSummary<Id> = {
      customerId,
      x: repeatDays.length,
      tx: (lastDay - firstDay) / unitDays,
      T: (calibrationEndDay - firstDay) / unitDays,
      mx: repeatDays.length > 0 ? repeatSpend / repeatDays.length : 0,
      firstPurchaseAt: firstDay * MS_PER_DAY,
    };
    if (holdoutEndDay !== undefined) {
      summary.xHoldout = days.filter((day) => day > calibrationEndDay && day <= holdoutEndDay).length;
    }
    summaries.push(summary);
  }
  return summaries;
}

/** Days since 1970-01-01 of the UTC date containing `epochMs`. */
function utcDay(epochMs: number): number {
  return Math.floor(epochMs / MS_PER_DAY);
}
