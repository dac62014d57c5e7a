/**
 * Loaders for the CDNOW sample (see test/fixtures/cdnow/README.md): the raw purchase log and the BTYD
 * calibration summaries, parsed once per test file.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (name: string) => fileURLToPath(new URL(`../fixtures/cdnow/${name}`, import.meta.url));

export interface CdnowCbsRow {
  x: number;
  tx: number;
  T: number;
  xStar: number;
}

export interface CdnowPurchase {
  masterId: string;
  /** UTC midnight of the purchase date, epoch ms. */
  at: number;
  cds: number;
  dollars: number;
}

/** cdnowSummary_cbs.csv: x, t.x, T.cal, x.star per customer, in sample-id order. */
export function loadCbs(): CdnowCbsRow[] {
  return dataLines("cdnowSummary_cbs.csv").map((line) => {
    const [, x, tx, T, xStar] = line.split(",").map(Number);
    return { x: defined(x), tx: defined(tx), T: defined(T), xStar: defined(xStar) };
  });
}

/** cdnowSummary_m.x.csv: mean repeat spend per customer (0 when x = 0), in the cbs row order. */
export function loadMeanRepeatSpend(): number[] {
  return dataLines("cdnowSummary_m.x.csv").map(Number);
}

/** cdnowSummary_cu.tracking.csv: the cohort's cumulative repeat purchases at the end of weeks 1–78. */
export function loadCumulativeTracking(): number[] {
  return dataLines("cdnowSummary_cu.tracking.csv").map(Number);
}

/** CDNOW_sample.txt: ` master_id sample_id YYYYMMDD cds dollars`, whitespace separated, CRLF. */
export function loadRawPurchases(): CdnowPurchase[] {
  return readFileSync(here("CDNOW_sample.txt"), "utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [masterId, , date, cds, dollars] = line.split(/\s+/);
      const ymd = defined(date);
      return {
        masterId: defined(masterId),
        at: Date.UTC(Number(ymd.slice(0, 4)), Number(ymd.slice(4, 6)) - 1, Number(ymd.slice(6, 8))),
        cds: Number(cds),
        dollars: Number(dollars),
      };
    });
}

function dataLines(name: string): string[] {
  return readFileSync(here(name), "utf8").trim().split(/\r?\n/).slice(1);
}

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("malformed CDNOW fixture line");
  return value;
}
