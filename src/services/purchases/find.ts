/** A recorded purchase, found for the one who may see it, and its view on the wire. */
import { eq } from "drizzle-orm";
import { purchases } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Principal } from "../../domain/principal.ts";
import { isoTime } from "../../lib/time.ts";


export type PurchaseRow = typeof purchases.$inferSelect;

/** A purchase as its partner (or staff) may see it; other partners' purchases do not exist. */
export async function findPurchase(deps: Deps, actor: Principal, purchaseId: string): Promise<PurchaseRow> {
  const [row] = await deps.database.db.select().from(purchases).where(eq(purchases.id, purchaseId));
  if (!row || (actor.role === "partner" && row.partnerId !== actor.partnerId)) {
    throw new AppError("not_found", `No purchase ${purchaseId}.`);
  }
  return row;
}

export function purchaseView(row: PurchaseRow) {
  return {
    purchaseId: row.id,
    receiptId: row.receiptId,
    partnerId: row.partnerId,
    storeId: row.storeId,
    memberId: row.memberId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    discountMinor: row.discountMinor,
    refundedDiscountMinor: row.refundedDiscountMinor,
    pointsRedeemed: row.redeemedPoints,
    pointsEarned: row.earnedPoints,
    payableMinor: row.payableMinor,
    refundedMinor: row.refundedMinor,
    pointsClawedBack: row.clawedPoints,
    pointsRestored: row.restoredPoints,
    status: (row.refundedMinor === 0 ? "completed" : row.refundedMinor < row.amountMinor ? "partially_refunded" : "refunded") as "completed" | "partially_refunded" | "refunded",
    programVersion: row.programVersion,
    occurredAt: isoTime(row.occurredAt),
  };
}
