/**
 * A purchase planned: the checks and reads that hold between attempts (preparePurchase), then
 * everything it would do from the rows as they are now (planPurchase) — the quote shows the plan,
 * the purchase commits it.
 */
import { and, eq, sql } from "drizzle-orm";
import { prepared, rendered, type Statement } from "../../../db/database.ts";
import { purchases } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { computeEarning, type BreakdownLine } from "../../domain/earning.ts";
import { dayStart, expiresAt, monthStart } from "../../domain/expiry.ts";
import type { Program } from "../../domain/program.ts";
import { AppError } from "../../errors.ts";
import { newId } from "../../lib/ids.ts";
import { resolvePresentedCard } from "../cards/card-tokens.ts";
import { verifyMemberPin } from "../members/pins.ts";
import { abortUnitIf, accounts, balanceOf, balanceStatement, transactionStatements } from "../../store/ledger.ts";
import { createLot, spendFromLots } from "../../store/lots.ts";
import type { Principal } from "../../domain/principal.ts";
import { currentProgram } from "../program/program.ts";
import { earnedSince, tierStatements } from "../../store/tiers.ts";
import { TIER_TERM_MS } from "../../domain/tiers.ts";
import { partnerTerms } from "../partners/partners.ts";
import { interactionStatement } from "../../store/interactions.ts";
import { purchaseProfileStatements } from "../../store/profiles.ts";
import { activeStoreOf } from "../partners/stores.ts";
import { offersAt, offerUseStatements, usesAround } from "../offers/offers.ts";
import { DAY_MS, isoTime } from "../../lib/time.ts";
import { checkRedemption, invalidInput, occurredAtOf, priceOrRefuse } from "../../domain/purchase.ts";

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

type Breakdown = Array<
  | BreakdownLine
  | { rule: "offer"; offerId: string; name: string; discountMinor: number; points: number }
  | { rule: "redemption"; points: number; valueMinor: number }
  | { rule: "debt_repayment"; points: number }
>;

/** Checks and reads that do not change between attempts. */
export async function preparePurchase(deps: Deps, input: PurchaseInput) {
  const { version, program } = await currentProgram(deps);
  if (input.currency !== program.currency) invalidInput("currency", `The program runs in ${program.currency}`);
  if (input.items?.length) {
    const sum = input.items.reduce((n, i) => n + i.amountMinor, 0);
    if (sum !== input.amountMinor) invalidInput("items", `The items add up to ${sum}, not amountMinor ${input.amountMinor}`);
  }
  const occurredAt = occurredAtOf(deps.clock(), input.occurredAt);
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

export type Prepared = Awaited<ReturnType<typeof preparePurchase>>;

/**
 * Everything a purchase would do, computed from the rows as they are now: the offers, the points
 * redeemed and earned, the response, and the statements that make it so. The quote shows the
 * plan; the purchase commits it (and plans again if a guard saw a concurrent change).
 */
export async function planPurchase(deps: Deps, actor: Principal, input: PurchaseInput, prep: Prepared, member: { tier: string; tierRequalifyAt: number | null }) {
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
    occurredAt: isoTime(occurredAt),
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
    ...purchaseProfileStatements(deps.clock(), {
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
    interactionStatement(deps.clock(), {
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
    abortUnitIf(txnId, "cap", rendered`(SELECT COALESCE(SUM(earned_points - clawed_points), 0) FROM purchases WHERE member_id = ${memberId} AND occurred_at >= ${since}) > ${cap}`);
  return [
    ...(perDay === undefined ? [] : [guard(perDay, dayStart(occurredAt, program.utcOffsetMinutes))]),
    ...(perMonth === undefined ? [] : [guard(perMonth, monthStart(occurredAt, program.utcOffsetMinutes))]),
  ];
}

export async function purchaseByReceipt(deps: Deps, partnerId: string, receiptId: string) {
  const query = prepared(deps.database.db, "purchases.byReceipt", (db) =>
    db
      .select({ id: purchases.id })
      .from(purchases)
      .where(and(eq(purchases.partnerId, sql.placeholder("partnerId")), eq(purchases.receiptId, sql.placeholder("receiptId"))))
      .prepare(),
  );
  return query.get({ partnerId, receiptId });
}

export function cardTokenUsed() {
  return new AppError("card_token_used", "This card token already paid for a purchase; ask the member to refresh the card.");
}

async function purchaseByCardToken(deps: Deps, jti: string) {
  const query = prepared(deps.database.db, "purchases.byCardToken", (db) =>
    db.select({ id: purchases.id }).from(purchases).where(eq(purchases.cardTokenJti, sql.placeholder("jti"))).prepare(),
  );
  return query.get({ jti });
}

export function duplicateReceipt(purchaseId: string) {
  return new AppError("duplicate_receipt", "This partner already recorded a purchase with this receipt id.", { purchaseId });
}
