/**
 * Monthly settlement statements: what a partner owes the operator, or is owed, for a month of
 * points issued and spent at it, refunds, and offer discounts. Derived from the ledger alone —
 * nothing is stored — and stable: a month is cut by booking time (created_at) in the program's
 * time zone, never by when a sale occurred, so a back-dated purchase or a late refund lands in
 * the month it is booked and a closed month never changes.
 */
import { sql } from "drizzle-orm";
import type { Deps } from "../../deps.ts";
import { monthRange, settleMovement, sumLines, type SettlementLine, type SettlementMovement } from "../../domain/settlement.ts";
import { invalidField } from "../../errors.ts";
import { accounts } from "../../store/ledger.ts";
import { findPartnerRow } from "./partners.ts";
import { currentProgram } from "../program/program.ts";
import { isoTime } from "../../lib/time.ts";

export interface StatementLine extends SettlementLine {
  txnId: string;
  bookedAt: string;
  kind: "purchase" | "refund" | "void";
  purchaseId: string;
  receiptId: string;
  storeId: string | null;
  pointCostMilli: number;
  redemptionRateMilli: number;
}

export interface Statement extends SettlementLine {
  partnerId: string;
  partnerName: string;
  month: string;
  currency: string;
  from: string;
  to: string;
  /** closed once the month is over: from then on the statement never changes. */
  status: "open" | "closed";
  lines: StatementLine[];
}

interface MovementRow {
  txnId: string;
  kind: "purchase" | "refund" | "void";
  purchaseId: string;
  bookedAt: number;
  receiptId: string;
  storeId: string | null;
  pointCostMilli: number;
  redemptionRateMilli: number;
  issuanceEntryPoints: number;
  redemptionEntryPoints: number;
  discountMinor: number;
  operatorFundedMinor: number;
}

/**
 * A unit stamped just before midnight may commit just after it (a busy database waits up to its
 * busy timeout): a month is called closed only once such stragglers are surely in.
 */
const CLOSING_GRACE_MS = 60_000;

/**
 * The partner's statement for a local month ("2026-03"). Every line is one ledger transaction of
 * the partner booked in the month; totals are the sums of the lines. A month that has not begun
 * is refused (a typo would otherwise look like an empty statement).
 */
export async function partnerStatement(deps: Deps, partnerId: string, month: string): Promise<Statement> {
  const { db } = deps.database;
  const partner = await findPartnerRow(deps, partnerId);
  const { program } = await currentProgram(deps);
  const { fromMs, toMs } = monthRange(month, program.utcOffsetMinutes);
  const now = deps.clock();
  if (now < fromMs) throw invalidField("month", "Has not begun yet", `${month} has not begun; there is no statement for it yet.`);

  // One pass over the partner's month through ledger_transactions(partner_id, created_at);
  // entries come through ledger_entries(txn_id), discounts through the offer tables' keys: no
  // query per line.
  const rows = (await db.all(sql`
    SELECT t.id AS txnId, t.kind AS kind, t.purchase_id AS purchaseId, t.created_at AS bookedAt,
           p.receipt_id AS receiptId, p.store_id AS storeId,
           p.point_cost_milli AS pointCostMilli, p.redemption_rate_milli AS redemptionRateMilli,
           COALESCE(SUM(CASE WHEN e.account = ${accounts.issuance(partnerId)} THEN e.points END), 0) AS issuanceEntryPoints,
           COALESCE(SUM(CASE WHEN e.account = ${accounts.redemption(partnerId)} THEN e.points END), 0) AS redemptionEntryPoints,
           CASE t.kind WHEN 'purchase'
             THEN COALESCE((SELECT SUM(o.discount_minor) FROM purchase_offers o WHERE o.purchase_id = t.purchase_id), 0)
             ELSE COALESCE((SELECT SUM(r.discount_minor) FROM purchase_offer_refunds r WHERE r.txn_id = t.id), 0) END AS discountMinor,
           CASE t.kind WHEN 'purchase'
             THEN COALESCE((SELECT SUM(o.operator_funded_minor) FROM purchase_offers o WHERE o.purchase_id = t.purchase_id), 0)
             ELSE COALESCE((SELECT SUM(r.operator_funded_minor) FROM purchase_offer_refunds r WHERE r.txn_id = t.id), 0) END AS operatorFundedMinor
    FROM ledger_transactions t
    JOIN purchases p ON p.id = t.purchase_id
    LEFT JOIN ledger_entries e ON e.txn_id = t.id
    WHERE t.partner_id = ${partnerId} AND t.created_at >= ${fromMs} AND t.created_at < ${toMs}
      AND t.kind IN ('purchase', 'refund', 'void')
    GROUP BY t.id
    ORDER BY t.created_at, t.id`)) as MovementRow[];

  const lines = rows.map((row): StatementLine => {
    const movement: SettlementMovement = row;
    return {
      txnId: row.txnId,
      bookedAt: isoTime(row.bookedAt),
      kind: row.kind,
      purchaseId: row.purchaseId,
      receiptId: row.receiptId,
      storeId: row.storeId,
      pointCostMilli: row.pointCostMilli,
      redemptionRateMilli: row.redemptionRateMilli,
      ...settleMovement(movement),
    };
  });
  const totals = sumLines(lines);
  return {
    partnerId,
    partnerName: partner.name,
    month,
    currency: program.currency,
    from: isoTime(fromMs),
    to: isoTime(toMs),
    status: now >= toMs + CLOSING_GRACE_MS ? "closed" : "open",
    points: totals.points,
    amounts: totals.amounts,
    netMinor: totals.netMinor,
    lines,
  };
}
