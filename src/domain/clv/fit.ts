/**
 * Fits the CLV models to a transaction file: reads its lines one at a time (any delimiter, any
 * column order), summarises each customer on the fly, fits BG/NBD and Gamma-Gamma, and compares the
 * BG/NBD forecast with the holdout period when there is one. No runtime here: the lines come from any
 * (async) iterable, so the CLI feeds it a file and a test feeds it an array. The same fit runs on the
 * purchase interactions stored in the database (services/analytics/clv-stored.ts).
 */
import {
  compressCustomers,
  conditionalExpectedPurchases,
  DAYS_PER_UNIT,
  fitBgNbd,
  fitGammaGamma,
  type BgNbdFit,
  type CustomerSummary,
  type GammaGammaFit,
  type TimeUnit,
} from "./index.ts";
import { createSummaryAccumulator, type SummaryAccumulator } from "./summary.ts";
import {
  ColumnNotFoundError,
  detectDelimiter,
  parseCalendarDate,
  resolveColumns,
  splitFields,
  type ColumnRef,
  type DateFormat,
  type Delimiter,
} from "../delimited.ts";
import { DAY_MS, isoDate } from "../../lib/time.ts";

// The file-reading pieces live in domain/delimited.ts; the CLI and tests know them from here too.
export { detectDelimiter, parseCalendarDate, splitFields, type ColumnRef, type DateFormat, type Delimiter };

export interface TransactionFileFormat {
  delimiter: Delimiter;
  /** Whether the first non-blank line names the columns. */
  header: boolean;
  /** By default, the first header name in {@link DEFAULT_COLUMN_NAMES}, or columns 1, 2, 3 without a header. */
  idColumn?: ColumnRef | undefined;
  dateColumn?: ColumnRef | undefined;
  amountColumn?: ColumnRef | undefined;
  /** The source's own id of each transaction, read only when given (importers use it as the line's key). */
  txnIdColumn?: ColumnRef | undefined;
  dateFormat: DateFormat;
}

/** Header names tried, in order, when a column is not given. Compared case-insensitively, ignoring spaces, - and _. */
export const DEFAULT_COLUMN_NAMES = {
  id: ["customer_id", "customer", "member_id", "member", "user_id", "client_id", "master_id", "id"],
  date: ["date", "purchased_at", "purchase_date", "order_date", "transaction_date", "created_at", "timestamp", "at", "time"],
  amount: ["amount", "value", "revenue", "total", "sales", "spend", "price", "dollar_value", "amount_minor"],
} as const;

/** Thrown for a file that cannot be read as asked: a missing column (a usage problem) or no usable row. */
export class TransactionFileError extends Error {
  constructor(
    readonly code: "column_not_found" | "no_usable_rows",
    message: string,
    /** For "no_usable_rows": the lines that were rejected, so the caller can say why. */
    readonly rejected?: { count: number; lines: RejectedLine[] },
  ) {
    super(message);
    this.name = "TransactionFileError";
  }
}

/** A line that was skipped, with why. */
export interface RejectedLine {
  /** 1-based line number in the file, the header included. */
  line: number;
  reason: string;
}

export type ParsedLine =
  | { kind: "transaction"; customerId: string; at: number; amount: number; txnId?: string }
  | { kind: "header" | "blank" }
  | { kind: "rejected"; reason: string };

type TransactionColumns = { id: number; date: number; amount: number; txnId: number | undefined };

/**
 * A line parser for one file: the first non-blank line fixes the delimiter (when "auto") and, with a
 * header, the columns. Throws {@link TransactionFileError} "column_not_found" when the header lacks a
 * column or a column is named in a file without a header.
 */
export function createLineParser(format: TransactionFileFormat): (line: string) => ParsedLine {
  let delimiter: Exclude<Delimiter, "auto"> | undefined = format.delimiter === "auto" ? undefined : format.delimiter;
  let columns = format.header ? undefined : transactionColumns(undefined, format);

  return (line) => {
    if (line.trim() === "") return { kind: "blank" };
    delimiter ??= detectDelimiter(line);
    const fields = splitFields(line, delimiter);
    if (!columns) {
      columns = transactionColumns(fields, format);
      return { kind: "header" };
    }
    const needed = Math.max(columns.id, columns.date, columns.amount, columns.txnId ?? 0) + 1;
    if (fields.length < needed) return { kind: "rejected", reason: `${fields.length} fields, expected at least ${needed}` };
    const customerId = fields[columns.id] ?? "";
    const dateText = fields[columns.date] ?? "";
    const amountText = fields[columns.amount] ?? "";
    if (customerId === "") return { kind: "rejected", reason: "empty customer id" };
    const at = parseCalendarDate(dateText, format.dateFormat);
    if (at === undefined) {
      const expected = format.dateFormat === "auto" ? "YYYYMMDD, YYYY-MM-DD or ISO 8601" : format.dateFormat;
      return { kind: "rejected", reason: `date ${JSON.stringify(dateText)} is not a date (${expected})` };
    }
    const amount = amountText === "" ? Number.NaN : Number(amountText);
    if (!Number.isFinite(amount)) return { kind: "rejected", reason: `amount ${JSON.stringify(amountText)} is not a number` };
    if (amount < 0) return { kind: "rejected", reason: `amount ${amountText} is negative (refunds are not netted)` };
    if (columns.txnId === undefined) return { kind: "transaction", customerId, at, amount };
    const txnId = fields[columns.txnId] ?? "";
    if (txnId === "") return { kind: "rejected", reason: "empty transaction id" };
    return { kind: "transaction", customerId, at, amount, txnId };
  };
}

/** The columns from the header, or from the numbers given (1, 2, 3 by default) without one. */
function transactionColumns(header: string[] | undefined, format: TransactionFileFormat): TransactionColumns {
  try {
    const found = resolveColumns(header, {
      id: { column: format.idColumn, names: DEFAULT_COLUMN_NAMES.id, position: 0, required: true },
      date: { column: format.dateColumn, names: DEFAULT_COLUMN_NAMES.date, position: 1, required: true },
      amount: { column: format.amountColumn, names: DEFAULT_COLUMN_NAMES.amount, position: 2, required: true },
      // Only ever read when asked for: no default name, no default position.
      "txn-id": { column: format.txnIdColumn, names: [], required: false },
    });
    return { id: found.id ?? 0, date: found.date ?? 1, amount: found.amount ?? 2, txnId: found["txn-id"] };
  } catch (error) {
    if (error instanceof ColumnNotFoundError) throw new TransactionFileError("column_not_found", error.message);
    throw error;
  }
}

export interface ClvFitOptions {
  format: TransactionFileFormat;
  /** Default "week". */
  timeUnit?: TimeUnit;
  /** Last calibration day, UTC midnight epoch ms; default the last purchase date in the file. */
  calibrationEndAt?: number;
  /** Last holdout day; default the last purchase date when that is after the calibration end, else no holdout. */
  holdoutEndAt?: number;
  /** Rejected lines listed in the report (all are counted); default 20. */
  maxRejectedListed?: number;
  /** Called every `progressEvery` lines (default 100,000) while reading, and once when the fitting starts. */
  onProgress?: (progress: { stage: "reading" | "fitting"; linesRead: number }) => void;
  progressEvery?: number;
}

/** Mean actual and predicted holdout purchases of the customers with one calibration frequency. */
export interface FrequencyGroup {
  /** "0" … "6", then "7+". */
  x: string;
  customers: number;
  actualMean: number;
  predictedMean: number;
}

export interface HoldoutComparison {
  /** Holdout length in the time unit. */
  length: number;
  /** Σ x*: repeat purchase days in the holdout. */
  actual: number;
  /** Σ E[Y(length) | x, t_x, T] (FHL 2005 eq. 10). */
  predicted: number;
  /** (predicted − actual) / actual × 100; null when actual is 0. */
  errorPercent: number | null;
  byFrequency: FrequencyGroup[];
}

export interface ClvFitReport {
  lines: number;
  /** Rows read as purchases (before same-day merging). */
  transactions: number;
  rejected: { count: number; lines: RejectedLine[] };
  /** Customers with a first purchase on or before the calibration end: the ones fitted. */
  customers: number;
  /** Customers whose first purchase is after the calibration end, left out. */
  customersAfterCalibration: number;
  unit: TimeUnit;
  firstPurchaseDate: string;
  lastPurchaseDate: string;
  calibrationEnd: string;
  holdoutEnd: string | null;
  bgNbd: Pick<BgNbdFit, "r" | "alpha" | "a" | "b" | "logLikelihood" | "converged">;
  /** Null when no customer has a repeat purchase with a positive value. */
  gammaGamma: (Pick<GammaGammaFit, "p" | "q" | "gamma" | "logLikelihood" | "converged"> & { customers: number }) | null;
  holdout: HoldoutComparison | null;
}

/**
 * Reads a transaction file's lines, summarises and fits. Throws {@link TransactionFileError} when a
 * column is missing or no row is usable, RangeError when the holdout ends before the calibration.
 */
export async function fitTransactionLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ClvFitOptions,
): Promise<ClvFitReport> {
  const parse = createLineParser(options.format);
  const accumulator = createSummaryAccumulator<string>();
  const maxListed = options.maxRejectedListed ?? 20;
  const progressEvery = options.progressEvery ?? 100_000;
  const rejected: RejectedLine[] = [];
  let rejectedCount = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (options.onProgress && lineNumber % progressEvery === 0) options.onProgress({ stage: "reading", linesRead: lineNumber });
    const parsed = parse(line);
    if (parsed.kind === "transaction") accumulator.add({ customerId: parsed.customerId, at: parsed.at, amount: parsed.amount });
    else if (parsed.kind === "rejected") {
      rejectedCount++;
      if (rejected.length < maxListed) rejected.push({ line: lineNumber, reason: parsed.reason });
    }
  }
  return fitAccumulated(accumulator, { ...options, lines: lineNumber, rejected: { count: rejectedCount, lines: rejected } }, `${lineNumber} lines`);
}

export type PeriodOptions = Pick<ClvFitOptions, "timeUnit" | "calibrationEndAt" | "holdoutEndAt" | "onProgress">;

/**
 * Picks the periods, summarises what the accumulator holds and fits; `source` names what was read in
 * the "no usable rows" error. Shared by the file and the database fits.
 */
export function fitAccumulated(
  accumulator: SummaryAccumulator<string>,
  options: PeriodOptions & Pick<ClvFitReport, "lines" | "rejected">,
  source: string,
): ClvFitReport {
  const rejectedReport = options.rejected;
  const firstAt = accumulator.firstPurchaseAt;
  const lastAt = accumulator.lastPurchaseAt;
  if (firstAt === undefined || lastAt === undefined) {
    throw new TransactionFileError("no_usable_rows", `no usable rows in ${source}`, rejectedReport);
  }

  const unit = options.timeUnit ?? "week";
  const calibrationEndAt = dayOf(options.calibrationEndAt ?? lastAt);
  const holdoutEndAt =
    options.holdoutEndAt !== undefined ? dayOf(options.holdoutEndAt) : lastAt > calibrationEndAt ? lastAt : undefined;
  const summaries = accumulator.summarize({ calibrationEndAt, holdoutEndAt, timeUnit: unit });
  if (summaries.length === 0) {
    const message = `no customer's first purchase is on or before the calibration end ${isoDate(calibrationEndAt)}`;
    throw new TransactionFileError("no_usable_rows", message, rejectedReport);
  }
  options.onProgress?.({ stage: "fitting", linesRead: options.lines });
  const models = fitClvModels(summaries, {
    holdoutLength: holdoutEndAt === undefined ? undefined : (holdoutEndAt - calibrationEndAt) / DAY_MS / DAYS_PER_UNIT[unit],
  });
  return {
    lines: options.lines,
    transactions: accumulator.transactionCount,
    rejected: rejectedReport,
    customers: summaries.length,
    customersAfterCalibration: accumulator.customerCount - summaries.length,
    unit,
    firstPurchaseDate: isoDate(firstAt),
    lastPurchaseDate: isoDate(lastAt),
    calibrationEnd: isoDate(calibrationEndAt),
    holdoutEnd: holdoutEndAt === undefined ? null : isoDate(holdoutEndAt),
    ...models,
  };
}

/**
 * BG/NBD on every summary, Gamma-Gamma on those with x > 0 and positive mean repeat spend, and, given
 * a holdout length, Σ actual x* against Σ E[Y(length) | x, t_x, T], in total and by calibration
 * frequency (FHL 2005 fig. 4, "conditional expectations"). Each distinct (x, t_x, T) costs one ₂F₁.
 */
export function fitClvModels(
  summaries: readonly CustomerSummary<unknown>[],
  options: { holdoutLength?: number } = {},
): Pick<ClvFitReport, "bgNbd" | "gammaGamma" | "holdout"> {
  const bgNbdFit = fitBgNbd(summaries);
  const bgNbd = {
    r: bgNbdFit.r,
    alpha: bgNbdFit.alpha,
    a: bgNbdFit.a,
    b: bgNbdFit.b,
    logLikelihood: bgNbdFit.logLikelihood,
    converged: bgNbdFit.converged,
  };

  const spenders = summaries.filter((s) => s.x > 0 && s.mx > 0);
  let gammaGamma: ClvFitReport["gammaGamma"] = null;
  if (spenders.length > 0) {
    const fit = fitGammaGamma(spenders);
    gammaGamma = { p: fit.p, q: fit.q, gamma: fit.gamma, logLikelihood: fit.logLikelihood, converged: fit.converged, customers: spenders.length };
  }

  const { holdoutLength } = options;
  if (holdoutLength === undefined) return { bgNbd, gammaGamma, holdout: null };
  const predictedByHistory = new Map<string, number>();
  for (const group of compressCustomers(summaries)) {
    predictedByHistory.set(`${group.x}|${group.tx}|${group.T}`, conditionalExpectedPurchases(bgNbdFit, group, holdoutLength));
  }
  const topGroup = 7;
  const groups = Array.from({ length: topGroup + 1 }, () => ({ customers: 0, actual: 0, predicted: 0 }));
  let actual = 0;
  let predicted = 0;
  for (const s of summaries) {
    const expected = predictedByHistory.get(`${s.x}|${s.tx}|${s.T}`) ?? 0;
    const purchases = s.xHoldout ?? 0;
    actual += purchases;
    predicted += expected;
    const group = groups[Math.min(s.x, topGroup)];
    if (group) {
      group.customers++;
      group.actual += purchases;
      group.predicted += expected;
    }
  }
  return {
    bgNbd,
    gammaGamma,
    holdout: {
      length: holdoutLength,
      actual,
      predicted,
      errorPercent: actual > 0 ? ((predicted - actual) / actual) * 100 : null,
      byFrequency: groups.map((g, x) => ({
        x: x === topGroup ? `${topGroup}+` : String(x),
        customers: g.customers,
        actualMean: g.customers > 0 ? g.actual / g.customers : 0,
        predictedMean: g.customers > 0 ? g.predicted / g.customers : 0,
      })),
    },
  };
}

function dayOf(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS;
}
