/**
 * The CLV fit of `clv fit --from-db`: the purchase interactions stored in the database, streamed a
 * page at a time through the same summary accumulator and fit as a transaction file.
 */
import { and, eq, sql } from "drizzle-orm";
import { interactions } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { createSummaryAccumulator } from "../../domain/clv/summary.ts";
import { fitAccumulated, type ClvFitOptions, type ClvFitReport, type PeriodOptions, type RejectedLine } from "../../domain/clv/fit.ts";
import { currentProgram } from "../program/program.ts";

export interface StoredPurchasesFitOptions extends PeriodOptions {
  /** Minor units per unit of the money the report shows (100: cents shown as dollars); default 1. */
  currencyScale?: number;
  /** Rows read per query; default 5,000. */
  pageSize?: number;
  /** Called after every page while reading, and once when the fitting starts. */
  onProgress?: ClvFitOptions["onProgress"];
}

/**
 * The same fit from the database: every member's interactions of kind "purchase" (made at a till,
 * ingested or imported), read in pages ordered by member and time, through the same accumulator.
 * Each purchase counts on its local date in the program's time zone — the day the member's profile
 * counts it on, and the date an import wrote it on — so `lines` are purchase rows and dates are local.
 */
export async function fitStoredPurchases(deps: Deps, options: StoredPurchasesFitOptions = {}): Promise<ClvFitReport> {
  const { program } = await currentProgram(deps);
  const offsetMs = program.utcOffsetMinutes * 60_000;
  const scale = options.currencyScale ?? 1;
  const accumulator = createSummaryAccumulator<string>();
  const rejected: RejectedLine[] = [];
  let rejectedCount = 0;
  let rows = 0;
  for await (const page of storedPurchasePages(deps, options.pageSize ?? 5_000)) {
    for (const purchase of page) {
      rows++;
      if (purchase.amountMinor === null) {
        // An ingested purchase without an amount says when, not how much: the spend model would read 0.
        rejectedCount++;
        if (rejected.length < 20) rejected.push({ line: rows, reason: `interaction ${purchase.id} has no amount` });
        continue;
      }
      accumulator.add({ customerId: purchase.memberId, at: purchase.occurredAt + offsetMs, amount: purchase.amountMinor / scale });
    }
    options.onProgress?.({ stage: "reading", linesRead: rows });
  }
  return fitAccumulated(accumulator, { ...options, lines: rows, rejected: { count: rejectedCount, lines: rejected } }, "the database's purchase interactions");
}

/** Purchase interactions by (member, time, id), a page at a time: keyset pagination, so each page is one index range. */
async function* storedPurchasePages(deps: Deps, pageSize: number) {
  const { db } = deps.database;
  const columns = { id: interactions.id, memberId: interactions.memberId, occurredAt: interactions.occurredAt, amountMinor: interactions.amountMinor };
  let after: { id: string; memberId: string; occurredAt: number } | undefined;
  for (;;) {
    const page = await db
      .select(columns)
      .from(interactions)
      .where(
        and(
          eq(interactions.kind, "purchase"),
          after && sql`(${interactions.memberId}, ${interactions.occurredAt}, ${interactions.id}) > (${after.memberId}, ${after.occurredAt}, ${after.id})`,
        ),
      )
      .orderBy(interactions.memberId, interactions.occurredAt, interactions.id)
      .limit(pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    after = page[page.length - 1];
  }
}

