/**
 * Purchases at partners: one call earns and redeems points, as one atomic unit — the purchase
 * row (unique per partner and receipt), its ledger transaction, the lots drawn and created, the
 * balance, a tier upgrade, and the Idempotency-Key's stored response.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { isConstraintViolation, prepared, rendered, type Statement } from "../../db/database.ts";
import { ledgerTransactions, offers, purchaseRefundItems, purchases } from "../../db/schema.ts";
import { frozenClock, type Deps } from "../deps.ts";
import { computeEarning, type BreakdownLine } from "../domain/earning.ts";
import { OfferRefused, priceOffers, type Offer, type PricingContext } from "../domain/offers.ts";
import { dayStart, expiresAt, monthStart } from "../domain/expiry.ts";
import type { Program } from "../domain/program.ts";
import { cashRefundMinor, itemRefundMinor, refundEffect, spendByCategory } from "../domain/refund.ts";
import { AppError, invalidField } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { resolvePresentedCard } from "./card-tokens.ts";
import { verifyMemberPin } from "./member-pins.ts";
import type { Claim } from "./idempotency.ts";
import { accounts, balanceOf, balanceStatement, balanceView, commitMovement, transactionStatements, withRetries } from "./ledger.ts";
import { createLot, moveLots, planClawBack, planRestore, spendFromLots } from "./lots.ts";
import type { Principal } from "./principal.ts";
import { currentProgram } from "./program.ts";
import { earnedSince, tierStatements } from "./tiers.ts";
import { TIER_TERM_MS } from "../domain/tiers.ts";
import { findMemberRow } from "./members.ts";
import { partnerTerms } from "./partners.ts";
import { interactionStatement } from "./interactions.ts";
import { purchaseProfileStatements, refundProfileStatements } from "./profiles.ts";
import { activeStoreOf } from "./stores.ts";
import { offerOf, offerRefundStatements, offersAt, offersOfPurchase, offerUseStatements, usesAround } from "./offers.ts";
import { DAY_MS } from "../lib/time.ts";

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
  card: { token: string } | { number: string; pin?: string | undefined };
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

function occurredAtOf(deps: Deps, occurredAt: string | undefined): number {
  const now = deps.clock();
  if (occurredAt === undefined) return now;
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) invalid("occurredAt", "Not an ISO-8601 time");
  if (at > now + MAX_CLOCK_SKEW_MS) invalid("occurredAt", "In the future");
  if (at < now - MAX_BACKDATE_MS) invalid("occurredAt", "More than 30 days ago");
  return at;
}

function checkRedemption(program: Program, payableBeforePointsMinor: number, redeem: number) {
  if (redeem === 0) return;
  if (redeem * program.pointValueMinor > payableBeforePointsMinor) {
    invalid("redeemPoints", "Points may pay for at most what is left to pay after offers");
  }
  const { minPoints, maxPoints } = program.redemption;
  if (minPoints !== undefined && redeem < minPoints) {
    throw new AppError("redemption_not_allowed", `At least ${minPoints} points must be redeemed at once.`, { minPoints });
  }
  if (maxPoints !== undefined && redeem > maxPoints) {
    throw new AppError("redemption_not_allowed", `At most ${maxPoints} points may be redeemed in one purchase.`, { maxPoints });
  }
}

/** The offers a purchase gets, with the pricing's refusals turned into the API's errors. */
function priceOrRefuse(offersHere: Offer[], ctx: PricingContext, requested: string[] | undefined) {
  try {
    return priceOffers(offersHere, ctx, requested);
  } catch (error) {
    if (!(error instanceof OfferRefused)) throw error;
    const field = `offerIds.${requested?.indexOf(error.offerId) ?? 0}`;
    const errors = [{ field, message: error.message }];
    if (error.reason === "exhausted") throw new AppError("offer_exhausted", error.message, { offerId: error.offerId, errors });
    if (error.reason === "not_combinable") throw new AppError("offers_not_combinable", error.message, { offerId: error.offerId, errors });
    throw new AppError("offer_not_eligible", error.message, { offerId: error.offerId, errors });
  }
}

type Breakdown = Array<
  | BreakdownLine
  | { rule: "offer"; offerId: string; name: string; discountMinor: number; points: number }
  | { rule: "redemption"; points: number; valueMinor: number }
  | { rule: "debt_repayment"; points: number }
>;

/** Checks and reads that do not change between attempts. */
async function preparePurchase(deps: Deps, input: PurchaseInput) {
  const { version, program } = await currentProgram(deps);
  if (input.currency !== program.currency) invalid("currency", `The program runs in ${program.currency}`);
  if (input.items?.length) {
    const sum = input.items.reduce((n, i) => n + i.amountMinor, 0);
    if (sum !== input.amountMinor) invalid("items", `The items add up to ${sum}, not amountMinor ${input.amountMinor}`);
  }
  const occurredAt = occurredAtOf(deps, input.occurredAt);
  const presented = await resolvePresentedCard(deps, "token" in input.card ? { token: input.card.token } : { cardNumber: input.card.number });
  const terms = await partnerTerms(deps, input.partnerId);
  if (terms.status !== "active") throw new AppError("forbidden", "This partner is suspended.");
  // A resent receipt is answered as such whatever else changed since (the UNIQUE key still
  // decides a race when the unit commits).
  const earlier = await purchaseByReceipt(deps, input.partnerId, input.receiptId);
  if (earlier) throw duplicateReceipt(earlier.id);
  if (input.storeId !== undefined) await activeStoreOf(deps, input.partnerId, input.storeId);
  // A quote must not promise what the purchase would refuse: a QR token pays once.
  if (presented.tokenJti !== null && (await purchaseByCardToken(deps, presented.tokenJti))) throw cardTokenUsed();
  return { version, program, occurredAt, ...presented, terms, presence: await presenceOf(deps, input.card, presented) };
}

/**
 * What shows that the member is at the till, which spending points needs: the QR token (minted
 * in the member's app a minute ago), or a typed number with the member's PIN. A PIN sent is
 * always checked — last, after the cheaper refusals, so a request refused anyway spends none of
 * its attempts — and a quote checks it as the purchase does: a quote that did not would promise
 * a redemption the purchase then refuses, and one that checked without counting would let a
 * till try every PIN. The check runs here, in the task that decides the purchase (on Node's
 * writer thread): WebCrypto's PBKDF2 runs off the event loop (Node's thread pool), so it holds up
 * neither thread, nothing that says "verified" has to cross to the writer and be trusted, and
 * the attempt is counted in SQL, which holds however many purchases race.
 */
async function presenceOf(deps: Deps, card: PurchaseInput["card"], presented: { tokenJti: string | null; member: { id: string } }) {
  if (presented.tokenJti !== null) return "card_token" as const;
  if (!("pin" in card) || card.pin === undefined) return "card_number" as const;
  await verifyMemberPin(deps, presented.member.id, card.pin);
  return "pin" as const;
}

function presenceRequired() {
  return new AppError(
    "member_presence_required",
    "Spending points on a typed card number needs proof that the member is here: scan the member's QR card, or send the member's PIN with the number.",
    { accepted: ["card.token", "card.pin"] },
  );
}

type Prepared = Awaited<ReturnType<typeof preparePurchase>>;

/**
 * Everything a purchase would do, computed from the rows as they are now: the offers, the points
 * redeemed and earned, the response, and the statements that make it so. The quote shows the
 * plan; the purchase commits it (and plans again if a guard saw a concurrent change).
 */
async function planPurchase(deps: Deps, actor: Principal, input: PurchaseInput, prep: Prepared, member: { tier: string; tierRequalifyAt: number | null }) {
  const { program, version, occurredAt, card, terms } = prep;
  const memberId = prep.member.id;
  const offersHere = await offersAt(deps, input.partnerId, occurredAt);
  const balance = await balanceOf(deps, memberId);
  const pricing = priceOrRefuse(
    offersHere,
    {
      at: occurredAt,
      utcOffsetMinutes: program.utcOffsetMinutes,
      partnerId: input.partnerId,
      storeId: input.storeId,
      tierCode: member.tier,
      amountMinor: input.amountMinor,
      lines: input.items,
      availablePoints: balance.available,
      usesOf: await usesAround(deps, memberId, offersHere.map((o) => o.id), occurredAt, program.utcOffsetMinutes),
    },
    input.offerIds,
  );
  const discount = pricing.discountMinor;
  const redeem = input.redeemPoints ?? 0;
  checkRedemption(program, input.amountMinor - discount, redeem);
  // Points spent: those redeemed as money and those paying for rewards.
  const spent = redeem + pricing.pointsCost;
  // Earning on a typed number is what a till does every day; spending needs the member there.
  if (spent > 0 && prep.presence === "card_number" && !program.redemption.allowTypedNumber) throw presenceRequired();
  if (spent > balance.available) throw new AppError("insufficient_points", "The member does not have that many points available.");
  const earnedBefore = await earnedSince(deps, memberId, {
    day: dayStart(occurredAt, program.utcOffsetMinutes),
    month: monthStart(occurredAt, program.utcOffsetMinutes),
    year: deps.clock() - TIER_TERM_MS,
  });
  const earning = computeEarning({
    program,
    partnerId: input.partnerId,
    tierCode: member.tier,
    amountMinor: input.amountMinor - discount,
    lines: input.items ? pricing.lines : undefined,
    paidWithPointsMinor: redeem * program.pointValueMinor,
    earnedToday: earnedBefore.day,
    earnedThisMonth: earnedBefore.month,
  });
  const earned = earning.points;
  const repay = Math.min(earned, balance.debt);
  const credited = earned - repay;
  const availableAt = occurredAt + program.earning.pendingDays * DAY_MS;
  const pendingNow = availableAt > deps.clock();
  const payableMinor = input.amountMinor - discount - redeem * program.pointValueMinor;
  const breakdown: Breakdown = [
    ...pricing.applied.map((a) => ({ rule: "offer" as const, offerId: a.offerId, name: a.name, discountMinor: a.discountMinor, points: -a.pointsCost })),
    ...earning.breakdown,
    ...(redeem > 0 ? [{ rule: "redemption" as const, points: -redeem, valueMinor: redeem * program.pointValueMinor }] : []),
    ...(repay > 0 ? [{ rule: "debt_repayment" as const, points: -repay }] : []),
  ];
  const purchaseId = newId("purchase", deps.clock());
  const txnId = newId("transaction", deps.clock());
  const description = [earned > 0 ? `Earned ${earned} at ${terms.name}` : null, spent > 0 ? `spent ${spent} at ${terms.name}` : null]
    .filter(Boolean)
    .join(", ")
    .replace(/^s/, "S");
  const response = {
    purchaseId,
    receiptId: input.receiptId,
    memberId,
    partnerId: input.partnerId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    discountMinor: discount,
    offers: pricing.applied,
    pointsRedeemed: spent,
    pointsEarned: earned,
    pointsPending: pendingNow ? credited : 0,
    payableMinor,
    breakdown,
    occurredAt: new Date(occurredAt).toISOString(),
  };
  const statements = (): Statement[] => [
    rendered`INSERT INTO purchases (id, partner_id, receipt_id, store_id, member_id, card_id, amount_minor, currency, redeemed_points, earned_points,
                               payable_minor, program_version, items, category, breakdown, discount_minor, point_cost_milli, redemption_rate_milli,
                               card_token_jti, occurred_at, created_at)
        VALUES (${purchaseId}, ${input.partnerId}, ${input.receiptId}, ${input.storeId ?? null}, ${memberId}, ${card.id}, ${input.amountMinor},
                ${input.currency}, ${spent}, ${earned}, ${payableMinor}, ${version}, ${input.items ? JSON.stringify(input.items) : null}, ${terms.category},
                ${JSON.stringify(breakdown)}, ${discount}, ${terms.pointCostMilli}, ${terms.redemptionRateMilli}, ${prep.tokenJti}, ${occurredAt}, ${deps.clock()})`,
    ...transactionStatements(
      deps,
      {
        id: txnId,
        memberId,
        kind: "purchase",
        reasonCode: earned > 0 && spent > 0 ? "earn_and_redeem" : spent > 0 ? "redeem" : "earn",
        description: `${description || `Purchase at ${terms.name}`}, receipt ${input.receiptId}`,
        actor,
        occurredAt,
        partnerId: input.partnerId,
        purchaseId,
      },
      [
        { account: accounts.member(memberId), points: -spent },
        { account: accounts.redemption(input.partnerId), points: spent },
        { account: accounts.issuance(input.partnerId), points: -earned },
        { account: pendingNow ? accounts.pending(memberId) : accounts.member(memberId), points: credited },
        { account: accounts.debt(memberId), points: repay },
      ],
    ),
    // Points spent are debited on their own, before anything is credited: an overdraft fails on
    // the balance CHECK (insufficient_points), never funded by this purchase's own earning.
    ...(spent > 0 ? [balanceStatement(deps, memberId, { available: -spent }), ...spendFromLots(txnId, memberId, spent)] : []),
    balanceStatement(deps, memberId, pendingNow ? { pending: credited, debt: -repay } : { available: credited, debt: -repay }),
    ...(credited > 0
      ? [createLot(deps, { memberId, txnId, points: credited, earnedAt: occurredAt, availableAt, expiresAt: expiresAt(occurredAt, program.expiry, program.utcOffsetMinutes) })]
      : []),
    ...tierStatements(deps, program, { memberId, tier: member.tier, requalifyAt: member.tierRequalifyAt }, earnedBefore.year + earned),
    ...capGuards(txnId, memberId, earned, program, occurredAt),
    ...offerUseStatements({ purchaseId, memberId, occurredAt, utcOffsetMinutes: program.utcOffsetMinutes }, pricing.applied, new Map(offersHere.map((o) => [o.id, o]))),
    ...purchaseProfileStatements(deps, {
      memberId,
      partnerId: input.partnerId,
      partnerCategory: terms.category,
      at: occurredAt,
      amountMinor: input.amountMinor - discount,
      lines: input.items,
      pointsEarned: earned,
      pointsSpent: spent,
      offersUsed: pricing.applied.length,
      utcOffsetMinutes: program.utcOffsetMinutes,
    }),
    interactionStatement(deps, {
      memberId,
      kind: "purchase",
      channel: "store",
      partnerId: input.partnerId,
      storeId: input.storeId ?? null,
      amountMinor: input.amountMinor - discount,
      points: earned - spent,
      reference: purchaseId,
      attributes: { receiptId: input.receiptId, discountMinor: discount, pointsEarned: earned, pointsSpent: spent, offerIds: pricing.applied.map((a) => a.offerId) },
      occurredAt,
    }),
  ];
  // Offers whose last counted unit a concurrent purchase may take (see recordPurchase).
  const counted = pricing.applied.filter((a) => offersHere.find((o) => o.id === a.offerId)?.budgetCount !== null).map((a) => a.offerId);
  return { response, statements, memberId, balance, counted };
}

/** What a purchase would give, without recording anything (the card token stays unused). */
export async function quotePurchase(deps: Deps, actor: Principal, input: PurchaseInput) {
  const prep = await preparePurchase(deps, input);
  const { response, balance } = await planPurchase(deps, actor, input, prep, prep.member);
  const { program } = prep;
  const { purchaseId: _none, ...quote } = response;
  // Points the member could still put towards this purchase, within the program's limits.
  const payableBeforePoints = input.amountMinor - response.discountMinor;
  const pointsCost = response.offers.reduce((n, o) => n + o.pointsCost, 0);
  const usable = Math.max(
    0,
    Math.min(balance.available - pointsCost, Math.floor(payableBeforePoints / program.pointValueMinor), program.redemption.maxPoints ?? Number.MAX_SAFE_INTEGER),
  );
  return { ...quote, pointsUsable: usable < (program.redemption.minPoints ?? 0) ? 0 : usable, balance: { available: balance.available, pending: balance.pending } };
}

export async function recordPurchase(deps: Deps, actor: Principal, input: PurchaseInput, claim: Claim | null) {
  const prep = await preparePurchase(deps, input);
  let attempts = 0;
  const attempt = async () => {
    // A retry reads the member again: another purchase may just have changed the tier.
    const member = attempts++ === 0 ? prep.member : await findMemberRow(deps, prep.member.id);
    const plan = await planPurchase(frozenClock(deps), actor, input, prep, member);
    try {
      await commitMovement(deps, { statements: plan.statements(), claim, status: 201, response: plan.response, memberId: plan.memberId });
    } catch (error) {
      if (isConstraintViolation(error, "UNIQUE", "purchases.partner_id")) {
        throw duplicateReceipt((await purchaseByReceipt(deps, input.partnerId, input.receiptId))?.id ?? "unknown");
      }
      if (isConstraintViolation(error, "UNIQUE", "purchases.card_token_jti")) throw cardTokenUsed();
      // A count budget refuses a use only when no unit is left: a named offer is then used up,
      // and saying so at once spares the retries (an automatic choice is re-planned without it).
      if (input.offerIds && plan.counted.length === 1 && isConstraintViolation(error, "CHECK", "offers_budget_count")) {
        const offerId = plan.counted[0]!;
        throw new AppError("offer_exhausted", "The offer's budget is used up.", { offerId, errors: [{ field: `offerIds.${input.offerIds.indexOf(offerId)}`, message: "The offer's budget is used up." }] });
      }
      throw error;
    }
    return plan.response;
  };
  const response = await withRetries(attempt);
  // With a key, the client gets the stored body, whose balance was read inside the unit.
  return { ...response, balance: claim ? null : await balanceView(deps, prep.member.id) };
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
    rendered`INSERT INTO ledger_entries (txn_id, account, points) SELECT ${txnId}, 'guard:cap', 0
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
  if (!purchase.items?.length) invalid("items", "This purchase was recorded without items: refund an amount");
  return requested.map((item, i) => {
    const line = purchase.items!.find((l) => l.sku === item.sku);
    if (!line) invalid(`items.${i}.sku`, `${item.sku} is not on this purchase`);
    const before = refunded.get(item.sku) ?? 0;
    if (before + item.quantity > line.quantity) {
      throw new AppError("refund_exceeds_remaining", `Only ${line.quantity - before} of ${item.sku} are left to refund.`, {
        errors: [{ field: `items.${i}.quantity`, message: `At most ${line.quantity - before}` }],
      });
    }
    return { sku: item.sku, quantity: item.quantity, amountMinor: itemRefundMinor(line, before, item.quantity) };
  });
}

function cardTokenUsed() {
  return new AppError("card_token_used", "This card token already paid for a purchase; ask the member to refresh the card.");
}

async function purchaseByCardToken(deps: Deps, jti: string) {
  const query = prepared(deps.database.db, "purchases.byCardToken", (db) =>
    db.select({ id: purchases.id }).from(purchases).where(eq(purchases.cardTokenJti, sql.placeholder("jti"))).prepare(),
  );
  return query.get({ jti });
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
    occurredAt: new Date(row.occurredAt).toISOString(),
  };
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
          refundedDiscountMinor: sql`${purchases.refundedDiscountMinor} + ${offerRefund.discountReversedMinor}`,
        })
        .where(eq(purchases.id, purchaseId)),
      ...offerRefund.statements,
      ...refundProfileStatements(deps, {
        memberId: purchase.memberId,
        partnerId: purchase.partnerId,
        at: deps.clock(),
        refundedMinor,
        categoriesMinor,
        pointsClawedBack: effect.clawPoints,
        pointsRestored: effect.restorePoints,
      }),
      interactionStatement(deps, {
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
