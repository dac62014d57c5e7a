/**
 * `dangol clv fit <file>`: fits BG/NBD and Gamma-Gamma to a transaction file and, with a holdout,
 * checks the forecast against it; `--from-db` fits the purchases stored in the database instead.
 * Node only; the work is in domain/clv/fit.ts and services/analytics/clv-stored.ts.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { fitTransactionLines, TransactionFileError, type ClvFitReport, type DateFormat } from "../domain/clv/fit.ts";
import type { StoredPurchasesFitOptions } from "../services/analytics/clv-stored.ts";
import { count, currencyScaleOf, delimitedFileFlags, delimiterOf, fixed, optionalColumn, optionalDate, parseCommandLine, UsageError, withDatabase, withoutByteOrderMark } from "./args.ts";
import { createProgress } from "./progress.ts";

export const clvUsage = `usage: dangol clv fit <transactions file> [options]
       dangol clv fit --from-db [--unit, --calibration-end, --holdout-end, --currency-scale, --json]

Fits BG/NBD (repeat purchases) and Gamma-Gamma (spend per purchase) to a purchase log, one purchase
a line, or with --from-db to the purchase interactions in DATABASE_PATH (made at tills or imported),
each on its local date in the program's time zone. Same-day purchases of a customer count as one;
the first purchase is not a repeat.

options:
  --id-col COL           customer id column: 1-based number or header name
                         (default: first of customer_id, customer, member_id, … in the header; 1 without)
  --date-col COL         purchase date column (default: date, purchased_at, order_date, …; 2 without a header)
  --amount-col COL       purchase value column (default: amount, value, revenue, total, …; 3 without a header)
  --delimiter D          comma, tab, semicolon, whitespace (runs of spaces/tabs) or one character
                         (default: auto from the first line — tab, else comma, else whitespace)
  --no-header            the first line is data (default: it names the columns)
  --date-format F        YYYYMMDD, YYYY-MM-DD or ISO (a date-time; its written date counts, not the UTC one)
                         (default: auto, any of the three per line)
  --unit week|day        time unit of t_x, T, α and the holdout (default: week)
  --calibration-end DATE last day of calibration, YYYY-MM-DD (default: the last purchase date)
  --holdout-end DATE     last day of the holdout (default: the last purchase date, if after calibration)
  --from-db              fit the purchases stored in DATABASE_PATH instead of a file
  --currency-scale N     with --from-db: minor units per unit of the money reported (100: cents as dollars; default 1)
  --json                 print one JSON object instead of a summary

exit codes: 0 fitted, 1 no usable rows, 2 bad usage`;

/** Runs `clv …` with the arguments after "clv"; resolves to the exit code. */
export async function runClvCommand(argv: string[]): Promise<number> {
  const stderr = (text: string) => process.stderr.write(`${text}\n`);
  try {
    return await fit(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(`dangol clv: ${error.message}\n(dangol clv --help lists the options)`);
      return 2;
    }
    if (error instanceof TransactionFileError && error.code === "column_not_found") {
      stderr(`dangol clv: ${error.message}`);
      return 2;
    }
    if (error instanceof TransactionFileError) {
      const reasons = (error.rejected?.lines ?? []).map((r) => `  line ${r.line}: ${r.reason}`);
      stderr([`dangol clv: ${error.message}`, ...reasons].join("\n"));
      return 1;
    }
    throw error;
  }
}

/** Flags that describe a transaction file: meaningless with --from-db. */
const fileFlags = ["id-col", "date-col", "amount-col", "delimiter", "no-header", "date-format"] as const;

async function fit(argv: string[]): Promise<number> {
  const { values, positionals } = parseUsage(argv);
  const [subcommand, path, ...extra] = positionals;
  if (values.help) {
    console.log(clvUsage);
    return 0;
  }
  if (subcommand !== "fit") throw new UsageError(subcommand ? `unknown clv command: ${subcommand}` : "missing command: fit");
  const fromDatabase = values["from-db"];
  if (fromDatabase && path) throw new UsageError("--from-db reads the database: give no file");
  if (!fromDatabase && !path) throw new UsageError("missing the transactions file (or --from-db)");
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  const unit = values.unit;
  if (unit !== "week" && unit !== "day") throw new UsageError(`--unit must be week or day, not ${unit}`);
  const calibrationEndAt = optionalDate("--calibration-end", values["calibration-end"]);
  const holdoutEndAt = optionalDate("--holdout-end", values["holdout-end"]);
  if (holdoutEndAt !== undefined && calibrationEndAt === undefined) throw new UsageError("--holdout-end needs --calibration-end");
  if (holdoutEndAt !== undefined && calibrationEndAt !== undefined && holdoutEndAt < calibrationEndAt) {
    throw new UsageError("--holdout-end is before --calibration-end");
  }
  const periods = { timeUnit: unit, calibrationEndAt, holdoutEndAt } as const;

  if (fromDatabase) {
    const fileFlag = fileFlags.find((flag) => values[flag] !== undefined);
    if (fileFlag) throw new UsageError(`--${fileFlag} describes a file; --from-db reads the database`);
    const currencyScale = values["currency-scale"] === undefined ? 1 : currencyScaleOf(values["currency-scale"]);
    return fitFromDatabase({ ...periods, currencyScale }, values.json);
  }
  if (!path) throw new UsageError("missing the transactions file");
  if (values["currency-scale"] !== undefined) throw new UsageError("--currency-scale goes with --from-db (a file's amounts are read as written)");
  const dateFormat = (values["date-format"] ?? "auto").toUpperCase().replace(/^AUTO$/, "auto");
  if (!isDateFormat(dateFormat)) throw new UsageError(`--date-format must be auto, YYYYMMDD, YYYY-MM-DD or ISO, not ${dateFormat}`);
  const fileStat = await stat(path).catch(() => undefined);
  if (!fileStat?.isFile()) throw new UsageError(`no such file: ${path}`);

  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const progress = createProgress();
  let report: ClvFitReport;
  try {
    report = await fitTransactionLines(withoutByteOrderMark(lines), {
      format: {
        delimiter: delimiterOf(values.delimiter ?? "auto"),
        header: !values["no-header"],
        idColumn: optionalColumn("--id-col", values["id-col"]),
        dateColumn: optionalColumn("--date-col", values["date-col"]),
        amountColumn: optionalColumn("--amount-col", values["amount-col"]),
        dateFormat,
      },
      ...periods,
      onProgress: ({ stage, linesRead }) =>
        progress.update(stage === "reading" ? stream.bytesRead / fileStat.size : 1, `${stage === "reading" ? "read" : "fitting on"} ${count(linesRead)} lines`),
    });
  } finally {
    progress.end();
    lines.close();
    stream.destroy();
  }
  console.log(values.json ? JSON.stringify({ ok: true, file: path, ...report }) : describeReport(basename(path), report));
  return 0;
}

/** `clv fit --from-db`: the purchase interactions in DATABASE_PATH, made at tills or imported. */
async function fitFromDatabase(options: Omit<StoredPurchasesFitOptions, "onProgress">, json: boolean): Promise<number> {
  const { fitStoredPurchases } = await import("../services/analytics/clv-stored.ts");
  const progress = createProgress();
  const report = await withDatabase((deps) =>
    fitStoredPurchases(deps, {
      ...options,
      onProgress: ({ stage, linesRead }) => progress.update(undefined, `${stage === "reading" ? "read" : "fitting on"} ${count(linesRead)} purchases`),
    }),
  ).finally(() => progress.end());
  const source = `purchase interactions in ${process.env.DATABASE_PATH || "the database"}`;
  console.log(json ? JSON.stringify({ ok: true, source: "database", ...report }) : describeReport(source, report, "rows"));
  return 0;
}

function parseUsage(argv: string[]) {
  return parseCommandLine(argv, {
    ...delimitedFileFlags,
    unit: { type: "string", default: "week" },
    "calibration-end": { type: "string" },
    "holdout-end": { type: "string" },
    "from-db": { type: "boolean", default: false },
  });
}

function isDateFormat(value: string): value is DateFormat {
  return value === "auto" || value === "YYYYMMDD" || value === "YYYY-MM-DD" || value === "ISO";
}

/** The report as a few readable lines. */
export function describeReport(file: string, report: ClvFitReport, rowsName = "lines"): string {
  const out: string[] = [];
  out.push(`${file}: ${count(report.lines)} ${rowsName}, ${count(report.transactions)} purchases, ${count(report.rejected.count)} rejected`);
  for (const r of report.rejected.lines) out.push(`  line ${r.line}: ${r.reason}`);
  if (report.rejected.count > report.rejected.lines.length) out.push(`  … and ${count(report.rejected.count - report.rejected.lines.length)} more`);
  const later = report.customersAfterCalibration > 0 ? ` (${count(report.customersAfterCalibration)} more first bought after it)` : "";
  out.push(`${count(report.customers)} customers by the calibration end${later}; purchases ${report.firstPurchaseDate} … ${report.lastPurchaseDate}`);
  const holdout = report.holdout ? `, holdout to ${report.holdoutEnd} (${fixed(report.holdout.length, 2)} ${report.unit}s)` : ", no holdout";
  out.push(`unit: ${report.unit}; calibration to ${report.calibrationEnd}${holdout}`);
  out.push("");
  const g = report.bgNbd;
  const unconverged = (converged: boolean) => (converged ? "" : "  (NOT converged)");
  out.push(`BG/NBD       r ${g.r.toPrecision(4)}  α ${g.alpha.toPrecision(5)}  a ${g.a.toPrecision(4)}  b ${g.b.toPrecision(5)}  log-likelihood ${fixed(g.logLikelihood, 2)}${unconverged(g.converged)}`);
  const m = report.gammaGamma;
  out.push(
    m
      ? `Gamma-Gamma  p ${m.p.toPrecision(4)}  q ${m.q.toPrecision(4)}  γ ${m.gamma.toPrecision(5)}  log-likelihood ${fixed(m.logLikelihood, 2)}  (${count(m.customers)} customers with x > 0)${unconverged(m.converged)}`
      : "Gamma-Gamma  not fitted: no customer has a repeat purchase with a positive value",
  );
  const h = report.holdout;
  if (h) {
    const error = h.errorPercent === null ? "" : ` (${h.errorPercent >= 0 ? "+" : ""}${fixed(h.errorPercent, 1)}%)`;
    out.push("");
    out.push(`holdout repeat purchases: actual ${count(h.actual)}, predicted ${fixed(h.predicted, 1)}${error}`);
    out.push("  x    customers   actual mean   predicted mean");
    for (const row of h.byFrequency) {
      out.push(`  ${row.x.padEnd(4)} ${count(row.customers).padStart(9)}   ${fixed(row.actualMean, 3).padStart(11)}   ${fixed(row.predictedMean, 3).padStart(14)}`);
    }
  }
  return out.join("\n");
}
