/**
 * Purchases at partners: one call earns and redeems points, as one atomic unit — the purchase
 * row (unique per partner and receipt), its ledger transaction, the lots drawn and created, the
 * balance, a tier upgrade, and the Idempotency-Key's stored response.
 */
import { and, eq, sql } from "drizzle-orm";
import { isConstraintViolation, prepared, type Statement } from "../../db/database.ts";
import { ledgerTransactions, partners, purchaseRefundItems, purchases } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { computeEarning, type BreakdownLine } from "../domain/earning.ts";
import { dayStart, expiresAt, monthStart } from "../domain/expiry.ts";
import type { Program } from "../domain/program.ts";
import { itemRefundMinor, refundEffect } from "../domain/refund.ts";
import { AppError, invalidField } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { resolvePresentedCard } from "./card-tokens.ts";
import type { Claim } from "./idempotency.ts";
import { accounts, balanceOf, balanceStatement, balanceView, commitMovement, transactionStatements, withRetries } from "./ledger.ts";
import { createLot, moveLots, planClawBack, planRestore, spendFromLots } from "./lots.ts";
import type { Principal } from "./principal.ts";
import { currentProgram } from "./program.ts";
import { earnedSince, tierStatements } from "./tiers.ts";
import { TIER_TERM_MS } from "../domain/tiers.ts";
import { findMemberRow } from "./members.ts";

const DAY_MS = 86_400_000;
/** How far back a till may date a purchase (offline tills catching up), and forward (clock skew). */
const MAX_BACKDATE_MS = 30 * DAY_MS;
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface PurchaseItem {
  sku: string;
  category: string;
  amountMinor: number;
  quantity: number;
}

export interface PurchaseInput {
  partnerId: string;
  card: { token: string } | { number: string };
  receiptId: string;
  storeId?: string | undefined;
  amountMinor: number;
  currency: string;
  items?: PurchaseItem[] | undefined;
  redeemPoints?: number | undefined;
  offerIds?: string[] | undefined;
  occurredAt?: string | undefined;
}

type PurchaseRow = typeof purchases.$inferSelect;

function invalid(field: string, message: string): never {
  throw invalidField(field, message, message);
}

// Names for ledger descriptions; a renamed partner shows in new descriptions within a minute.
const NAME_CACHE_MS = 60_000;
const partnerNames = new Map<string, { name: string; at: number }>();

async function partnerName(deps: Deps, partnerId: string): Promise<string> {
  const hit = partnerNames.get(partnerId);
  if (hit && Date.now() - hit.at < NAME_CACHE_MS) return hit.name;
  const query = prepared(deps.database.db, "partners.name", (db) => db.select({ name: partners.name }).from(partners).where(eq(partners.id, sql.placeholder("id"))).prepare());
  const row = await query.get({ id: partnerId });
  if (!row) throw new AppError("not_found", `No partner ${partnerId}.`);
  if (partnerNames.size > 10_000) partnerNames.clear();
  partnerNames.set(partnerId, { name: row.name, at: Date.now() });
  return row.name;
}

function occurredAtOf(deps: Deps, occurredAt: string | undefined): number {
  const now = deps.clock();
  if (occurredAt === undefined) return now;
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) invalid("occurredAt", "Not an ISO-8601 time");
  if (at > now + MAX_CLOCK_SKEW_MS) invalid("occurredAt", "In the future");
  if (at < now - MAX_BACKDATE_MS) invalid("occurredAt", "More than 30 days ago");
  return at;
}

function checkRedemption(program: Program, input: PurchaseInput, redeem: number) {
  if (redeem === 0) return;
  if (redeem * program.pointValueMinor > input.amountMinor) {
    invalid("redeemPoints", "Points may pay for at most the whole amount");
  }
  const { minPoints, maxPoints } = program.redemption;
  if (minPoints !== undefined && redeem < minPoints) {
    throw new AppError("redemption_not_allowed", `At least ${minPoints} points must be redeemed at once.`, { minPoints });
  }
  if (maxPoints !== undefined && redeem > maxPoints) {
    throw new AppError("redemption_not_allowed", `At most ${maxPoints} points may be redeemed in one purchase.`, { maxPoints });
  }
}

export async function recordPurchase(deps: Deps, actor: Principal, input: PurchaseInput, claim: Claim | null) {
  const { version, program } = await currentProgram(deps);
  if (input.currency !== program.currency) invalid("currency", `The program runs in ${program.currency}`);
  if (input.items?.length) {
    const sum = input.items.reduce((n, i) => n + i.amountMinor, 0);
    if (sum !== input.amountMinor) invalid("items", `The items add up to ${sum}, not amountMinor ${input.amountMinor}`);
  }
  if (input.offerIds?.length) invalid("offerIds", `Unknown offer ${input.offerIds[0]}`); // the program has no offers yet
  const redeem = input.redeemPoints ?? 0;
  checkRedemption(program, input, redeem);
  const occurredAt = occurredAtOf(deps, input.occurredAt);
  const { card, member } = await resolvePresentedCard(deps, "token" in input.card ? { token: input.card.token } : { cardNumber: input.card.number });
  const name = await partnerName(deps, input.partnerId);
  const purchaseId = newId("purchase", deps.clock());

  // A resent receipt is caught by the UNIQUE (partner, receipt) key when the unit commits.
  let attempts = 0;
  const attempt = async () => {
    // A retry reads the member again: another purchase may just have changed the tier.
    const { tier, tierRequalifyAt } = attempts++ === 0 ? member : await findMemberRow(deps, member.id);
    const earnedBefore = await earnedSince(deps, member.id, {
      day: dayStart(occurredAt, program.utcOffsetMinutes),
      month: monthStart(occurredAt, program.utcOffsetMinutes),
      year: deps.clock() - TIER_TERM_MS,
    });
    const earning = computeEarning({
      program,
      partnerId: input.partnerId,
      tierCode: tier,
      amountMinor: input.amountMinor,
      lines: input.items,
      paidWithPointsMinor: redeem * program.pointValueMinor,
      earnedToday: earnedBefore.day,
      earnedThisMonth: earnedBefore.month,
    });
    const earned = earning.points;
    const { debt } = await balanceOf(deps, member.id);
    const repay = Math.min(earned, debt);
    const credited = earned - repay;
    const pendingDays = program.earning.pendingDays;
    const availableAt = occurredAt + pendingDays * DAY_MS;
    const pendingNow = availableAt > deps.clock();
    const payableMinor = input.amountMinor - redeem * program.pointValueMinor;
    const breakdown: Array<BreakdownLine | { rule: "redemption"; points: number; valueMinor: number } | { rule: "debt_repayment"; points: number }> = [
      ...earning.breakdown,
      ...(redeem > 0 ? [{ rule: "redemption" as const, points: -redeem, valueMinor: redeem * program.pointValueMinor }] : []),
      ...(repay > 0 ? [{ rule: "debt_repayment" as const, points: -repay }] : []),
    ];
    const txnId = newId("transaction", deps.clock());
    const description = [
      earned > 0 ? `Earned ${earned} at ${name}` : null,
      redeem > 0 ? `spent ${redeem} at ${name}` : null,
    ]
      .filter(Boolean)
      .join(", ")
      .replace(/^s/, "S");
    const qualifying = earnedBefore.year + earned;
    const statements: Statement[] = [
      sql`INSERT INTO purchases (id, partner_id, receipt_id, store_id, member_id, card_id, amount_minor, currency, redeemed_points, earned_points,
                                 payable_minor, program_version, items, breakdown, occurred_at, created_at)
          VALUES (${purchaseId}, ${input.partnerId}, ${input.receiptId}, ${input.storeId ?? null}, ${member.id}, ${card.id}, ${input.amountMinor},
                  ${input.currency}, ${redeem}, ${earned}, ${payableMinor}, ${version}, ${input.items ? JSON.stringify(input.items) : null},
                  ${JSON.stringify(breakdown)}, ${occurredAt}, ${deps.clock()})`,
      ...transactionStatements(
        deps,
        {
          id: txnId,
          memberId: member.id,
          kind: "purchase",
          reasonCode: earned > 0 && redeem > 0 ? "earn_and_redeem" : redeem > 0 ? "redeem" : "earn",
          description: `${description || `Purchase at ${name}`}, receipt ${input.receiptId}`,
          actor,
          occurredAt,
          partnerId: input.partnerId,
          purchaseId,
        },
        [
          { account: accounts.member(member.id), points: -redeem },
          { account: accounts.redemption(input.partnerId), points: redeem },
          { account: accounts.issuance(input.partnerId), points: -earned },
          { account: pendingNow ? accounts.pending(member.id) : accounts.member(member.id), points: credited },
          { account: accounts.debt(member.id), points: repay },
        ],
      ),
      // A redemption is debited on its own, before anything is credited: an overdraft fails on the
      // balance CHECK (insufficient_points), never funded by this purchase's own earning.
      ...(redeem > 0 ? [balanceStatement(deps, member.id, { available: -redeem }), ...spendFromLots(txnId, member.id, redeem)] : []),
      balanceStatement(deps, member.id, pendingNow ? { pending: credited, debt: -repay } : { available: credited, debt: -repay }),
      ...(credited > 0
        ? [createLot(deps, { memberId: member.id, txnId, points: credited, earnedAt: occurredAt, availableAt, expiresAt: expiresAt(occurredAt, program.expiry, program.utcOffsetMinutes) })]
        : []),
      ...tierStatements(deps, program, { memberId: member.id, tier, requalifyAt: tierRequalifyAt }, qualifying),
      ...capGuards(txnId, member.id, earned, program, occurredAt),
    ];
    const response = {
      purchaseId,
      receiptId: input.receiptId,
      memberId: member.id,
      partnerId: input.partnerId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      discountMinor: 0,
      pointsRedeemed: redeem,
      pointsEarned: earned,
      pointsPending: pendingNow ? credited : 0,
      payableMinor,
      breakdown,
      occurredAt: new Date(occurredAt).toISOString(),
    };
    try {
      await commitMovement(deps, { statements, claim, status: 201, response, memberId: member.id });
    } catch (error) {
      if (isConstraintViolation(error, "UNIQUE", "purchases.partner_id")) {
        throw duplicateReceipt((await purchaseByReceipt(deps, input.partnerId, input.receiptId))?.id ?? "unknown");
      }
      throw error;
    }
    return response;
  };

  const response = await withRetries(attempt);
  // With a key, the client gets the stored body, whose balance was read inside the unit.
  return { ...response, balance: claim ? null : await balanceView(deps, member.id) };
}

/**
 * The caps were applied to totals read before the unit; a concurrent purchase may have earned
 * since. These abort the unit (and the purchase is planned again with fresh totals) when the
 * member's day or month would end above its cap. Only a purchase that earns is guarded, so a cap
 * lowered mid-day never blocks purchases.
 */
function capGuards(txnId: string, memberId: string, earned: number, program: Program, occurredAt: number): Statement[] {
  const { perDay, perMonth } = program.earning.caps;
  if (earned === 0) return [];
  const guard = (cap: number, since: number) =>
    sql`INSERT INTO ledger_entries (txn_id, account, points) SELECT ${txnId}, 'guard:cap', 0
        WHERE (SELECT COALESCE(SUM(earned_points - clawed_points), 0) FROM purchases
               WHERE member_id = ${memberId} AND occurred_at >= ${since}) > ${cap}`;
  return [
    ...(perDay === undefined ? [] : [guard(perDay, dayStart(occurredAt, program.utcOffsetMinutes))]),
    ...(perMonth === undefined ? [] : [guard(perMonth, monthStart(occurredAt, program.utcOffsetMinutes))]),
  ];
}

async function purchaseByReceipt(deps: Deps, partnerId: string, receiptId: string) {
  const query = prepared(deps.database.db, "purchases.byReceipt", (db) =>
    db
      .select({ id: purchases.id })
      .from(purchases)
      .where(and(eq(purchases.partnerId, sql.placeholder("partnerId")), eq(purchases.receiptId, sql.placeholder("receiptId"))))
      .prepare(),
  );
  return query.get({ partnerId, receiptId });
}

/**
 * Units of a purchase's items to refund, with the amount each returns. Refuses skus that were
 * not bought and more units than are left; the refund guard catches a concurrent refund.
 */
async function itemsToRefund(deps: Deps, purchase: PurchaseRow, requested: Array<{ sku: string; quantity: number }>) {
  if (!purchase.items?.length) invalid("items", "This purchase was recorded without items: refund an amount");
  const refunded = await deps.database.db
    .select({ sku: purchaseRefundItems.sku, quantity: sql<number>`SUM(${purchaseRefundItems.quantity})` })
    .from(purchaseRefundItems)
    .where(eq(purchaseRefundItems.purchaseId, purchase.id))
    .groupBy(purchaseRefundItems.sku);
  return requested.map((item, i) => {
    const line = purchase.items!.find((l) => l.sku === item.sku);
    if (!line) invalid(`items.${i}.sku`, `${item.sku} is not on this purchase`);
    const before = Number(refunded.find((r) => r.sku === item.sku)?.quantity ?? 0);
    if (before + item.quantity > line.quantity) {
      throw new AppError("refund_exceeds_remaining", `Only ${line.quantity - before} of ${item.sku} are left to refund.`, {
        errors: [{ field: `items.${i}.quantity`, message: `At most ${line.quantity - before}` }],
      });
    }
    return { sku: item.sku, quantity: item.quantity, amountMinor: itemRefundMinor(line, before, item.quantity) };
  });
}

function duplicateReceipt(purchaseId: string) {
  return new AppError("duplicate_receipt", "This partner already recorded a purchase with this receipt id.", { purchaseId });
}

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
    pointsRedeemed: row.redeemedPoints,
    pointsEarned: row.earnedPoints,
    payableMinor: row.payableMinor,
    refundedMinor: row.refundedMinor,
    pointsClawedBack: row.clawedPoints,
    pointsRestored: row.restoredPoints,
    status: (row.refundedMinor === 0 ? "completed" : row.refundedMinor < row.amountMinor ? "partially_refunded" : "refunded") as "completed" | "partially_refunded" | "refunded",
    programVersion: row.programVersion,
    occurredAt: new Date(row.occurredAt).toISOString(),
  };
}

/**
 * Refunds part of a purchase (or all that is left, for a void): earned points are clawed back
 * and redeemed points restored, pro rata. Clawed-back points that were already spent become a
 * debt, repaid from the member's next earnings — the balance never goes below zero.
 */
export async function refundPurchase(
  deps: Deps,
  actor: Principal,
  purchaseId: string,
  request: { amountMinor: number } | { items: Array<{ sku: string; quantity: number }> } | { void: true },
  claim: Claim | null,
) {
  const isVoid = "void" in request;
  const attempt = async () => {
    const purchase = await findPurchase(deps, actor, purchaseId);
    const left = purchase.amountMinor - purchase.refundedMinor;
    const itemRows = "items" in request ? await itemsToRefund(deps, purchase, request.items) : [];
    const amount = isVoid ? left : "items" in request ? itemRows.reduce((n, i) => n + i.amountMinor, 0) : request.amountMinor;
    if (left === 0) throw new AppError("nothing_to_refund", "This purchase is already fully refunded.", { purchaseId });
    if (amount > left) {
      throw new AppError("refund_exceeds_remaining", `At most ${left} of this purchase is left to refund.`, { refundableMinor: left });
    }
    const effect = refundEffect(purchase, amount);
    const { db } = deps.database;
    const txns = await db.select().from(ledgerTransactions).where(eq(ledgerTransactions.purchaseId, purchaseId));
    const purchaseTxn = txns.find((t) => t.kind === "purchase")!;
    const refundTxnIds = txns.filter((t) => t.kind !== "purchase").map((t) => t.id);
    const claw = await planClawBack(deps, purchase.memberId, purchaseTxn.id, effect.clawPoints);
    const restore = await planRestore(deps, purchaseTxn.id, refundTxnIds, effect.restorePoints);
    const name = await partnerName(deps, purchase.partnerId);
    const txnId = newId("transaction", deps.clock());
    const statements: Statement[] = [
      // Aborts the unit if another refund of this purchase committed since it was read.
      sql`INSERT INTO ledger_entries (txn_id, account, points) SELECT ${txnId}, 'guard:refund', 0
          WHERE (SELECT refunded_minor FROM purchases WHERE id = ${purchaseId}) <> ${purchase.refundedMinor}`,
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
        })
        .where(eq(purchases.id, purchaseId)),
    ];
    const response = {
      refundId: txnId,
      purchaseId,
      amountMinor: amount,
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
  const { response, memberId } = await withRetries(attempt);
  return { ...response, balance: await balanceView(deps, memberId) };
}
