/** `npx dangol clv fit`: the CLV models fitted from a transaction file, run as operators run it. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { conditionalExpectedPurchases, fitBgNbd } from "../../src/domain/clv/index.ts";
import type { ClvFitReport } from "../../src/domain/clv/fit.ts";
import { createLineParser, parseCalendarDate, splitFields } from "../../src/domain/clv/fit.ts";
import { loadCbs } from "../helpers/cdnow.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a child process; never rejects, so runs can start before the tests that await them. */
function dangol(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/dangol.js", ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const report = (run: Run) => {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as ClvFitReport & { ok: true };
};
const threeDigits = (n: number) => Number(n.toPrecision(3));

const cdnowFile = "test/fixtures/cdnow/CDNOW_sample.txt";
const cdnowColumns = ["--no-header", "--id-col", "1", "--date-col", "3", "--amount-col", "5"];
const cdnowPeriods = ["--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30"];

const dir = mkdtempSync(join(tmpdir(), "dangol-clv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

// A small export as a point of sale might write it: a header, commas, quotes, a time of day, bad rows.
const storeExport = file(
  "store.csv",
  [
    "\uFEFFMember,Store,Bought on,Total",
    "kim,gangnam,2026-01-01,10000",
    "kim,gangnam,2026-01-15T10:00:00+09:00,5000",
    "kim,jongno,2026-01-15,10000",
    "lee,jongno,2026-02-30,3000",
    '"park, jiwoo","jongno, 2F",2026-01-05,7000',
    "",
    "park, jiwoo,jongno,2026-01-20,4000",
    '"park, jiwoo",gangnam,2026-01-20,oops',
    '"park, jiwoo",gangnam,2026-01-25,6000',
    "choi,gangnam,2026-01-10,2000",
    "kim,gangnam,2026-02-10,8000",
    "choi,gangnam,2026-02-11,1000",
    "choi,gangnam,2026-02-12,1000",
    "lee,jongno,2026-03-01,3000",
  ].join("\r\n"),
);
const storeColumns = ["--id-col", "member", "--date-col", "Bought On", "--amount-col", "4"];
const storePeriods = ["--calibration-end", "2026-01-31", "--holdout-end", "2026-02-28"];

// Every run starts now and in parallel; each test awaits the ones it reads.
const runs = {
  cdnow: dangol("clv", "fit", cdnowFile, ...cdnowColumns, ...cdnowPeriods, "--json"),
  // The holdout end left to its default, the last purchase date: 1998-06-30 again.
  cdnowInDays: dangol("clv", "fit", cdnowFile, ...cdnowColumns, "--calibration-end", "1997-09-30", "--unit", "day", "--json"),
  cdnowReadable: dangol("clv", "fit", cdnowFile, ...cdnowColumns, ...cdnowPeriods),
  store: dangol("clv", "fit", storeExport, ...storeColumns, ...storePeriods, "--json"),
  storeInDays: dangol("clv", "fit", storeExport, ...storeColumns, ...storePeriods, "--unit", "day", "--json"),
  storeDefaults: dangol("clv", "fit", storeExport, ...storeColumns, "--date-format", "YYYY-MM-DD", "--json"),
  nothingUsable: dangol("clv", "fit", file("bad.csv", "customer_id,date,amount\na,yesterday,1\nb,2026-01-01,-5\n")),
};

describe("dangol clv fit on the raw CDNOW log", () => {
  const cbs = loadCbs();

  it("reproduces the published BG/NBD fit: r 0.2426, α 4.4137, a 0.7930, b 2.4260, LL −9582.43", async () => {
    const { customers, transactions, rejected, unit, calibrationEnd, holdoutEnd, bgNbd } = report(await runs.cdnow);
    expect({ customers, transactions, rejected, unit, calibrationEnd, holdoutEnd }).toEqual({
      customers: 2357,
      transactions: 6919,
      rejected: { count: 0, lines: [] },
      unit: "week",
      calibrationEnd: "1997-09-30",
      holdoutEnd: "1998-06-30",
    });
    expect([bgNbd.r, bgNbd.alpha, bgNbd.a, bgNbd.b].map(threeDigits)).toEqual([0.243, 4.41, 0.793, 2.43]);
    expect(bgNbd.logLikelihood).toBeCloseTo(-9582.43, 2);
    expect(bgNbd.converged).toBe(true);
  });

  it("reproduces Gamma-Gamma p 6.25, q 3.74, γ 15.44 from raw dollars (the same m_x as cdnowSummary's)", async () => {
    const { gammaGamma } = report(await runs.cdnow);
    expect(gammaGamma).toMatchObject({ customers: 946, converged: true });
    expect([gammaGamma?.p, gammaGamma?.q].map((n) => n?.toPrecision(3))).toEqual(["6.25", "3.74"]);
    expect(gammaGamma?.gamma.toPrecision(4)).toBe("15.44");
    expect(gammaGamma?.logLikelihood).toBeCloseTo(-4055.918, 2);
  });

  it("compares the holdout: 1,882 actual repeat purchases in weeks 40–78 against 1,653 predicted (−12%)", async () => {
    const { holdout } = report(await runs.cdnow);
    // The same sum computed here from the published summary: Σ E[Y(39) | x, t_x, T] (FHL 2005 eq. 10).
    const fromCbs = fitBgNbd(cbs);
    const predicted = cbs.reduce((sum, c) => sum + conditionalExpectedPurchases(fromCbs, c, 39), 0);
    expect(holdout?.length).toBe(39);
    expect(holdout?.actual).toBe(1882);
    expect(holdout?.predicted).toBeCloseTo(predicted, 3);
    expect(Math.abs((holdout?.predicted ?? 0) - 1653.4)).toBeLessThan(0.5);
    expect(holdout?.errorPercent).toBeCloseTo(-12.15, 1);
  });

  it("tabulates conditional expectations by calibration frequency, 0 to 7+ (FHL 2005 fig. 4)", async () => {
    const { holdout } = report(await runs.cdnow);
    const table = holdout?.byFrequency ?? [];
    expect(table.map((row) => row.x)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7+"]);
    expect(table.map((row) => row.customers)).toEqual([1411, 439, 214, 100, 62, 38, 29, 64]);
    expect(table.map((row) => row.actualMean.toFixed(3))).toEqual(["0.237", "0.697", "1.393", "1.560", "2.532", "2.947", "3.862", "6.359"]);
    expect(table.map((row) => row.predictedMean.toFixed(2))).toEqual(["0.23", "0.52", "1.04", "1.52", "2.16", "2.65", "3.50", "6.16"]);
    expect(table.reduce((sum, row) => sum + row.customers * row.actualMean, 0)).toBeCloseTo(1882, 6);
  });

  it("measures in days with --unit day: α × 7, the rest and the forecast unchanged; the holdout runs to the last purchase", async () => {
    const inWeeks = report(await runs.cdnow);
    const inDays = report(await runs.cdnowInDays);
    expect(inDays).toMatchObject({ unit: "day", calibrationEnd: "1997-09-30", holdoutEnd: "1998-06-30" });
    expect(inDays.holdout?.length).toBe(273);
    expect(inDays.bgNbd.alpha / inWeeks.bgNbd.alpha).toBeCloseTo(7, 3);
    for (const key of ["r", "a", "b"] as const) expect(inDays.bgNbd[key]).toBeCloseTo(inWeeks.bgNbd[key], 4);
    expect(inDays.holdout?.predicted).toBeCloseTo(inWeeks.holdout?.predicted ?? 0, 1);
    expect(inDays.gammaGamma).toEqual(inWeeks.gammaGamma);
  });

  it("prints a readable summary without --json", async () => {
    const { code, stdout, stderr } = await runs.cdnowReadable;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("6,919 lines, 6,919 purchases, 0 rejected");
    expect(stdout).toContain("2,357 customers");
    expect(stdout).toMatch(/BG\/NBD\s+r 0\.2426\s+α 4\.41\d+\s+a 0\.7929\s+b 2\.42\d+\s+log-likelihood -9,582\.43/);
    expect(stdout).toMatch(/Gamma-Gamma\s+p 6\.250\s+q 3\.744\s+γ 15\.44\d/);
    expect(stdout).toContain("actual 1,882, predicted 1,653.4 (-12.1%)");
    expect(stdout).toMatch(/^ {2}7\+\s+64\s+6\.359\s+6\.157$/m);
  });
});

describe("dangol clv fit on a store's CSV export", () => {
  it("maps columns by header name or number, merges same-day purchases and reports bad lines by number", async () => {
    const result = report(await runs.store);
    expect(result).toMatchObject({
      lines: 15,
      transactions: 10,
      rejected: {
        count: 3,
        lines: [
          { line: 5, reason: 'date "2026-02-30" is not a date (YYYYMMDD, YYYY-MM-DD or ISO 8601)' },
          // The unquoted comma shifts every field: the date column holds "jongno".
          { line: 8, reason: 'date "jongno" is not a date (YYYYMMDD, YYYY-MM-DD or ISO 8601)' },
          { line: 9, reason: 'amount "oops" is not a number' },
        ],
      },
      // kim, "park, jiwoo" and choi; lee's only good purchase is after calibration.
      customers: 3,
      customersAfterCalibration: 1,
      unit: "week",
      calibrationEnd: "2026-01-31",
      holdoutEnd: "2026-02-28",
      // kim on 02-10, choi on 02-11 and 02-12.
      holdout: { length: 4, actual: 3 },
    });
    // kim's 01-15 purchases (one written in Seoul time) are one purchase day worth 15,000;
    // "park, jiwoo" repeats on 01-25 for 6,000: Gamma-Gamma sees those two.
    expect(result.gammaGamma?.customers).toBe(2);
  });

  it("measures the same file in days", async () => {
    const result = report(await runs.storeInDays);
    expect(result).toMatchObject({ unit: "day", customers: 3, holdout: { length: 28, actual: 3 } });
  });

  it("defaults the calibration end to the last purchase, with no holdout, and applies --date-format strictly", async () => {
    const result = report(await runs.storeDefaults);
    // The Seoul timestamp is not YYYY-MM-DD: rejected too.
    expect(result.rejected.lines.map((r) => r.line)).toEqual([3, 5, 8, 9]);
    expect(result).toMatchObject({ calibrationEnd: "2026-03-01", holdoutEnd: null, holdout: null, customers: 4 });
  });

  it("exits 1 with the reasons when no row is usable", async () => {
    const { code, stdout, stderr } = await runs.nothingUsable;
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("no usable rows in 3 lines");
    expect(stderr).toContain('line 2: date "yesterday" is not a date');
    expect(stderr).toContain("line 3: amount -5 is negative");
  });
});

describe("dangol clv usage errors exit 2 with a message on stderr", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["fit", cdnowFile, "--bogus"], /Unknown option '--bogus'/],
    ["a missing file", ["fit", join(dir, "missing.csv")], /no such file: .*missing\.csv/],
    ["no file at all", ["fit"], /missing the transactions file/],
    ["an unknown subcommand", ["predict", cdnowFile], /unknown clv command: predict/],
    ["a bad unit", ["fit", cdnowFile, "--unit", "month"], /--unit must be week or day/],
    ["a bad date", ["fit", cdnowFile, "--calibration-end", "30/09/1997"], /--calibration-end must be a date/],
    ["a holdout without a calibration end", ["fit", cdnowFile, "--holdout-end", "1998-06-30"], /--holdout-end needs --calibration-end/],
    ["a column name without a header", ["fit", cdnowFile, "--no-header", "--id-col", "master_id"], /no header: give its number/],
    ["a header without the columns", ["fit", cdnowFile], /no id column .*a file without a header needs --no-header/],
  ];
  // Started together: each run is mostly tsx starting up.
  const usageRuns = cases.map(([, args]) => dangol("clv", ...args));

  it.each(cases.map((c, i) => [...c, i] as const))("%s", async (_, __, message, i) => {
    const { code, stdout, stderr } = await (usageRuns[i] as Promise<Run>);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });
});

describe("transaction file parsing", () => {
  it("reads YYYYMMDD, YYYY-MM-DD and ISO dates by the date written, and refuses impossible ones", () => {
    const jan15 = Date.UTC(2026, 0, 15);
    expect(parseCalendarDate("20260115")).toBe(jan15);
    expect(parseCalendarDate("2026-01-15")).toBe(jan15);
    expect(parseCalendarDate("2026-01-15T23:30:00+09:00")).toBe(jan15);
    expect(parseCalendarDate("2026-01-15 08:00Z")).toBe(jan15);
    expect(parseCalendarDate("2026-01-15", "YYYYMMDD")).toBeUndefined();
    expect(parseCalendarDate("20260115", "ISO")).toBeUndefined();
    for (const bad of ["2026-02-29", "20261301", "2026-01-15T25:00", "15/01/2026", ""]) expect(parseCalendarDate(bad)).toBeUndefined();
  });

  it("splits on whitespace runs, or on one character with RFC 4180 quotes", () => {
    expect(splitFields(" 00004 0001 19970101  2   29.33\r", "whitespace")).toEqual(["00004", "0001", "19970101", "2", "29.33"]);
    expect(splitFields('"park, jiwoo", 2026-01-05 ,"say ""hi""",', ",")).toEqual(["park, jiwoo", "2026-01-05", 'say "hi"', ""]);
    expect(splitFields("a\tb c\t", "\t")).toEqual(["a", "b c", ""]);
  });

  it("finds the columns by common header names when none are given", () => {
    const parse = createLineParser({ delimiter: "auto", header: true, dateFormat: "auto" });
    expect(parse("Amount\tNote\tCustomer ID\tpurchased_at")).toEqual({ kind: "header" });
    expect(parse("12.5\tx\tc1\t20260101")).toEqual({ kind: "transaction", customerId: "c1", at: Date.UTC(2026, 0, 1), amount: 12.5 });
    expect(parse("12.5\tx\tc1")).toEqual({ kind: "rejected", reason: "3 fields, expected at least 4" });
  });
});
