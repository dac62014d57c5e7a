/** refundPurchase: part of a purchase, its items, or all that is left (a void) given back. */
import { and, eq, inArray, sql } from "drizzle-orm";
import { isConstraintViolation, rendered, type Statement } from "../../../db/database.ts";
import { ledgerTransactions, offers, purchaseRefundItems, purchases } from "../../../db/schema.ts";
import { frozenClock, type Deps } from "../../deps.ts";
import { cashRefundMinor, itemRefundMinor, refundEffect, spendByCategory } from "../../domain/refund.ts";
import { AppError } from "../../errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Claim } from "../../store/idempotency.ts";
import { abortUnitIf, accounts, balanceStatement, balanceView, commitMovement, transactionStatements, withRetries } from "../../store/ledger.ts";
import { moveLots, planClawBack, planRestore } from "../../store/lots.ts";
import type { Principal } from "../../domain/principal.ts";
import { currentProgram } from "../program/program.ts";
import { partnerTerms } from "../partners/partners.ts";
import { interactionStatement } from "../../store/interactions.ts";
import { refundProfileStatements } from "../../store/profiles.ts";
import { offerOf, offerRefundStatements, offersOfPurchase } from "../offers/offers.ts";
import { invalidInput } from "../../domain/purchase.ts";
import { findPurchase, type PurchaseRow } from "./find.ts";

/** Units of each of a purchase's skus refunded so far (none for a purchase without items). */
async function refundedUnitsOf(deps: Deps, purchase: PurchaseRow): Promise<Map<string, number>> {
  if (!purchase.items?.length) return new Map();
  const refunded = await deps.database.db
    .select({ sku: purchaseRefundItems.sku, quantity: sql<number>`SUM(${purchaseRefundItems.quantity})` })
    .from(purchaseRefundItems)
    .where(eq(purchaseRefundItems.purchaseId, purchase.id))
    .groupBy(purchaseRefundItems.sku);
  return new Map(refunded.map((r) => [r.sku, Number(r.quantity)]));
}

/**
 * Units of a purchase's items to refund, with the amount each returns. Refuses skus that were
 * not bought and more units than are left; the refund guard catches a concurrent refund.
 */
function itemsToRefund(purchase: PurchaseRow, refunded: ReadonlyMap<string, number>, requested: Array<{ sku: string; quantity: number }>) {
  if (!purchase.items?.length) invalidInput("items", "This purchase was recorded without items: refund an amount");
  return requested.map((item, i) => {
    const line = purchase.items!.find((l) => l.sku === item.sku);
    if (!line) invalidInput(`items.${i}.sku`, `${item.sku} is not on this purchase`);
    const before = refunded.get(item.sku) ?? 0;
    if (before + item.quantity > line.quantity) {
      throw new AppError("refund_exceeds_remaining", `Only ${line.quantity - before} of ${item.sku} are left to refund.`, {
        errors: [{ field: `items.${i}.quantity`, message: `At most ${line.quantity - before}` }],
      });
    }
    return { sku: item.sku, quantity: item.quantity, amountMinor: itemRefundMinor(line, before, item.quantity) };
  });
}

/**
 * Refunds part of a purchase (or all that is left, for a void): earned points are clawed back
 * and redeemed points restored, pro rata. Clawed-back points that were already spent become a
 * debt, repaid from the member's next earnings — the balance never goes below zero.
 */
export async function refundPurchase(
  live: Deps,
  actor: Principal,
  purchaseId: string,
  request: { amountMinor: number } | { items: Array<{ sku: string; quantity: number }> } | { void: true },
  claim: Claim | null,
) {
  const isVoid = "void" in request;
  const { program } = await currentProgram(live);
  const attempt = async () => {
    const deps = frozenClock(live);
    const purchase = await findPurchase(deps, actor, purchaseId);
    const left = purchase.amountMinor - purchase.refundedMinor;
    const refundedUnits = await refundedUnitsOf(deps, purchase);
    const itemRows = "items" in request ? itemsToRefund(purchase, refundedUnits, request.items) : [];
    const amount = isVoid ? left : "items" in request ? itemRows.reduce((n, i) => n + i.amountMinor, 0) : request.amountMinor;
    if (left === 0) throw new AppError("nothing_to_refund", "This purchase is already fully refunded.", { purchaseId });
    if (amount > left) {
      throw new AppError("refund_exceeds_remaining", `At most ${left} of this purchase is left to refund.`, { refundableMinor: left });
    }
    const effect = refundEffect(purchase, amount);
    const { db } = deps.database;
    const purchaseTxn = await purchaseTransactionOf(deps, purchaseId);
    const claw = await planClawBack(deps, purchase.memberId, purchaseTxn.id, effect.clawPoints);
    const restore = await planRestore(deps, { id: purchaseId, txnId: purchaseTxn.id, restoredPoints: purchase.restoredPoints }, effect.restorePoints);
    const { name, category } = await partnerTerms(deps, purchase.partnerId);
    const txnId = newId("transaction", deps.clock());
    const uses = await offersOfPurchase(deps, purchaseId);
    const usedOffers = uses.length ? await db.select().from(offers).where(inArray(offers.id, uses.map((u) => u.offerId))) : [];
    const offerRefund = offerRefundStatements(
      { txnId, purchaseId, memberId: purchase.memberId, amountMinor: purchase.amountMinor, refundedAfterMinor: purchase.refundedMinor + amount, now: deps.clock(), utcOffsetMinutes: program.utcOffsetMinutes },
      uses,
      (offerId) => offerOf(usedOffers.find((o) => o.id === offerId)!).limits,
    );
    const refundedMinor = amount - offerRefund.discountReversedMinor;
    const categoriesMinor = categoriesTakenBack(purchase, category, refundedUnits, itemRows, refundedMinor);
    const statements: Statement[] = [
      // Aborts the unit if another refund of this purchase committed since it was read.
      abortUnitIf(txnId, "refund", rendered`(SELECT refunded_minor FROM purchases WHERE id = ${purchaseId}) <> ${purchase.refundedMinor}`),
      ...transactionStatements(
        deps,
        {
          id: txnId,
          memberId: purchase.memberId,
          kind: isVoid ? "void" : "refund",
          reasonCode: isVoid ? "void" : "refund",
          description: `${isVoid ? "Voided" : "Refunded"} ${amount} ${purchase.currency} of receipt ${purchase.receiptId} at ${name}`,
          actor,
          occurredAt: deps.clock(),
          partnerId: purchase.partnerId,
          purchaseId,
          correctsTxnId: purchaseTxn.id,
          reversesTxnId: isVoid ? purchaseTxn.id : null,
        },
        [
          { account: accounts.issuance(purchase.partnerId), points: effect.clawPoints },
          { account: accounts.member(purchase.memberId), points: -claw.fromAvailable + effect.restorePoints },
          { account: accounts.pending(purchase.memberId), points: -claw.fromPending },
          { account: accounts.debt(purchase.memberId), points: -claw.shortfall },
          { account: accounts.redemption(purchase.partnerId), points: -effect.restorePoints },
        ],
      ),
      ...moveLots(deps, txnId, [...claw.moves, ...restore]),
      ...itemRows.map((i) => sql`INSERT INTO purchase_refund_items (purchase_id, txn_id, sku, quantity) VALUES (${purchaseId}, ${txnId}, ${i.sku}, ${i.quantity})`),
      balanceStatement(deps, purchase.memberId, { available: effect.restorePoints - claw.fromAvailable, pending: -claw.fromPending, debt: claw.shortfall }),
      db
        .update(purchases)
        .set({
          refundedMinor: sql`${purchases.refundedMinor} + ${amount}`,
          clawedPoints: sql`${purchases.clawedPoints} + ${effect.clawPoints}`,
          restoredPoints: sql`${purchases.restoredPoints} + ${effect.restorePoints}`,
          refundedDiscountMinor: sql`${purchases.refundedDiscountMinor} + ${offerRefund.discountReversedMinor}`,
        })
        .where(eq(purchases.id, purchaseId)),
      ...offerRefund.statements,
      ...refundProfileStatements(deps.clock(), {
        memberId: purchase.memberId,
        partnerId: purchase.partnerId,
        at: deps.clock(),
        refundedMinor,
        categoriesMinor,
        pointsClawedBack: effect.clawPoints,
        pointsRestored: effect.restorePoints,
      }),
      interactionStatement(deps.clock(), {
        memberId: purchase.memberId,
        kind: isVoid ? "void" : "refund",
        channel: "store",
        partnerId: purchase.partnerId,
        storeId: purchase.storeId,
        amountMinor: -refundedMinor,
        points: effect.restorePoints - effect.clawPoints,
        reference: purchaseId,
        attributes: { refundId: txnId, refundMinor: amount, discountReversedMinor: offerRefund.discountReversedMinor },
        occurredAt: deps.clock(),
      }),
    ];
    const response = {
      refundId: txnId,
      purchaseId,
      amountMinor: amount,
      discountReversedMinor: offerRefund.discountReversedMinor,
      cashReturnedMinor: cashRefundMinor(purchase, amount),
      pointsClawedBack: effect.clawPoints,
      pointsRestored: effect.restorePoints,
      pointsOwed: claw.shortfall,
    };
    try {
      await commitMovement(deps, { statements, claim, status: 201, response, memberId: purchase.memberId });
    } catch (error) {
      if (isVoid && isConstraintViolation(error, "UNIQUE", "ledger_transactions.reverses_txn_id")) {
        throw new AppError("nothing_to_refund", "This purchase was already voided.", { purchaseId });
      }
      throw error;
    }
    return { response, memberId: purchase.memberId };
  };
  const { response, memberId } = await withRetries(attempt, REFUND_ATTEMPTS);
  return { ...response, balance: await balanceView(live, memberId) };
}

/**
 * Refunds of one purchase racing each other lose a round only when another of them commits
 * meanwhile (the guard, or the reads, see the refunded total move), so n of them racing need at
 * most n attempts each: up to this many at once are all answered with a refund or a refusal for
 * what is left, never concurrent_update. A lost round costs a plan and a short pause.
 */
const REFUND_ATTEMPTS = 64;

/**
 * What a refund of `refundedMinor` (net of the offers' share it reverses) takes off each of the
 * purchase's categories in the profile: the split of what was left before, less the split after.
 */
function categoriesTakenBack(
  purchase: PurchaseRow,
  partnerCategory: string,
  refundedUnits: ReadonlyMap<string, number>,
  itemRows: Array<{ sku: string; quantity: number }>,
  refundedMinor: number,
): Map<string, number> {
  // Migration 0011 gave every older purchase its partner's category; null is never expected.
  const lines = purchase.items?.length ? purchase.items : [{ category: purchase.category ?? partnerCategory, amountMinor: purchase.amountMinor }];
  const unitsAfter = new Map(refundedUnits);
  for (const item of itemRows) unitsAfter.set(item.sku, (unitsAfter.get(item.sku) ?? 0) + item.quantity);
  const leftBefore = purchase.amountMinor - purchase.discountMinor - purchase.refundedMinor + purchase.refundedDiscountMinor;
  const before = spendByCategory(leftBefore, lines, refundedUnits);
  const after = spendByCategory(leftBefore - refundedMinor, lines, unitsAfter);
  return new Map([...before].map(([c, minor]) => [c, minor - after.get(c)!]));
}

/** The purchase's own ledger transaction (the partial unique index on purchase_id finds it). */
async function purchaseTransactionOf(deps: Deps, purchaseId: string) {
  const [row] = await deps.database.db
    .select({ id: ledgerTransactions.id })
    .from(ledgerTransactions)
    .where(and(eq(ledgerTransactions.purchaseId, purchaseId), sql`${ledgerTransactions.kind} = 'purchase'`));
  if (!row) throw new Error(`purchase ${purchaseId} has no purchase transaction`);
  return row;
}
