/**
 * Offers: created by a partner for its own till or by the operator for the coalition, found for a
 * purchase, and written with it — usage, per-member limits and the global budget in the same
 * atomic unit, guarded by CHECKs so the last unit of a budget is never given twice.
 */
import { and, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { isConstraintViolation, prepared, type Statement } from "../../../db/database.ts";
import { offerMemberUsage, offers, partners, purchaseOffers, stores } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { newestFirst } from "../../store/page.ts";
import {
  ineligibility,
  limitsByWindow,
  limitWindows,
  type AppliedOffer,
  type LimitWindow,
  type Offer,
  type OfferConditions,
  type OfferLimits,
  type OfferReward,
} from "../../domain/offers.ts";
import { AppError, invalidField } from "../../errors.ts";
import { newId } from "../../lib/ids.ts";
import { auditStatement } from "../../store/audit.ts";
import { balanceOf } from "../../store/ledger.ts";
import { findMemberRow } from "../members/members.ts";
import { assertScope, partnerActingFor, type Principal } from "../../domain/principal.ts";
import { currentProgram } from "../program/program.ts";
import { isoTime, isoTimeOrNull } from "../../lib/time.ts";

type OfferRow = typeof offers.$inferSelect;

/** Stored in offers.rules: everything but the columns. */
interface OfferRules {
  reward: OfferReward;
  conditions: OfferConditions;
  limits: OfferLimits;
  stackable: boolean;
  operatorFundedBps: number;
}

export interface OfferInput {
  partnerId?: string | null | undefined;
  name: string;
  description?: string | undefined;
  reward: OfferReward;
  conditions?: OfferConditions | undefined;
  limits?: OfferLimits | undefined;
  stackable?: boolean | undefined;
  operatorFundedBps?: number | undefined;
  validFrom?: string | undefined;
  validUntil?: string | undefined;
  budget?: { count?: number | undefined; amountMinor?: number | undefined } | undefined;
}

export function offerOf(row: OfferRow): Offer {
  const rules = row.rules as OfferRules;
  return {
    id: row.id,
    partnerId: row.partnerId,
    name: row.name,
    status: row.status,
    reward: rules.reward,
    conditions: rules.conditions,
    limits: rules.limits,
    stackable: rules.stackable,
    operatorFundedBps: rules.operatorFundedBps,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
    budgetCount: row.budgetCount,
    budgetAmountMinor: row.budgetAmountMinor,
    usedCount: row.usedCount,
    usedAmountMinor: row.usedAmountMinor,
  };
}

/**
 * An offer as its reader may see it. A partner reading an operator offer limited to some partners
 * sees that it is valid at its own tills, not which other partners take part.
 */
export function offerView(row: OfferRow, reader?: Principal) {
  const offer = offerOf(row);
  const conditions =
    reader?.role === "partner" && offer.conditions.partnerIds ? { ...offer.conditions, partnerIds: [reader.partnerId] } : offer.conditions;
  return {
    id: row.id,
    partnerId: row.partnerId,
    name: row.name,
    description: row.description,
    status: row.status,
    reward: offer.reward,
    conditions,
    limits: offer.limits,
    stackable: offer.stackable,
    operatorFundedBps: offer.operatorFundedBps,
    validFrom: isoTime(row.validFrom),
    validUntil: isoTimeOrNull(row.validUntil),
    budget: {
      count: row.budgetCount,
      amountMinor: row.budgetAmountMinor,
      usedCount: row.usedCount,
      usedAmountMinor: row.usedAmountMinor,
    },
    createdAt: isoTime(row.createdAt),
  };
}

function timeOf(field: string, text: string | undefined, fallback: number): number;
function timeOf(field: string, text: string | undefined, fallback: null): number | null;
function timeOf(field: string, text: string | undefined, fallback: number | null) {
  if (text === undefined) return fallback;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw invalidField(field, "Not an ISO-8601 time", `${field} is not an ISO-8601 time.`);
  return at;
}

async function checkReferences(deps: Deps, partnerId: string | null, conditions: OfferConditions) {
  const { program } = await currentProgram(deps);
  const tiers = new Set(program.tiers.map((t) => t.code));
  conditions.tiers?.forEach((tier, i) => {
    if (!tiers.has(tier)) throw invalidField(`conditions.tiers.${i}`, `No tier ${tier} in the program`, `The program has no tier ${tier}.`);
  });
  if (partnerId !== null && conditions.partnerIds) {
    throw invalidField("conditions.partnerIds", "Only operator offers name partners", "A partner's offer is valid at that partner only.");
  }
  if (conditions.partnerIds) {
    const known = new Set(
      (await deps.database.db.select({ id: partners.id }).from(partners).where(inArray(partners.id, conditions.partnerIds))).map((p) => p.id),
    );
    conditions.partnerIds.forEach((id, i) => {
      if (!known.has(id)) throw invalidField(`conditions.partnerIds.${i}`, "No such partner", `No partner ${id}.`);
    });
  }
  if (conditions.storeIds) {
    if (partnerId === null) throw invalidField("conditions.storeIds", "Only a partner's offer names stores", "Stores belong to a partner: create the offer for that partner.");
    const known = await deps.database.db
      .select({ id: stores.id })
      .from(stores)
      .where(and(eq(stores.partnerId, partnerId), inArray(stores.id, conditions.storeIds)));
    const ids = new Set(known.map((s) => s.id));
    conditions.storeIds.forEach((id, i) => {
      if (!ids.has(id)) throw invalidField(`conditions.storeIds.${i}`, "Not a store of this partner", `${id} is not a store of this partner.`);
    });
  }
}

export async function createOffer(deps: Deps, actor: Principal, input: OfferInput) {
  // A partner key creates its own; staff name a partner, or none for an operator offer.
  const partnerId = partnerActingFor(actor, input.partnerId);
  const conditions = input.conditions ?? {};
  await checkReferences(deps, partnerId, conditions);
  const now = deps.clock();
  const validFrom = timeOf("validFrom", input.validFrom, now);
  const validUntil = timeOf("validUntil", input.validUntil, null);
  if (validUntil !== null && validUntil <= validFrom) throw invalidField("validUntil", "Must be after validFrom", "validUntil must be after validFrom.");
  const rules: OfferRules = {
    reward: input.reward,
    conditions,
    limits: input.limits ?? {},
    stackable: input.stackable ?? true,
    // The operator pays for its own offers; a partner's are the partner's unless agreed otherwise.
    operatorFundedBps: input.operatorFundedBps ?? (partnerId === null ? 10_000 : 0),
  };
  if (actor.role === "partner" && input.operatorFundedBps) {
    throw invalidField("operatorFundedBps", "Set by the operator", "Only the operator can agree to fund part of a partner's offer.");
  }
  const row: OfferRow = {
    id: newId("offer", now),
    partnerId,
    name: input.name,
    description: input.description ?? null,
    kind: input.reward.kind,
    rules,
    status: "active",
    validFrom,
    validUntil,
    budgetCount: input.budget?.count ?? null,
    budgetAmountMinor: input.budget?.amountMinor ?? null,
    usedCount: 0,
    usedAmountMinor: 0,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await deps.database.atomic([deps.database.db.insert(offers).values(row), auditStatement(deps, actor, "offer.create", { type: "offer", id: row.id })]);
  } catch (error) {
    // Only a foreign key can fail here: the named partner does not exist.
    if (partnerId !== null && isConstraintViolation(error, "FOREIGN KEY")) throw invalidField("partnerId", "No such partner", `No partner ${partnerId}.`);
    throw error;
  }
  return offerView(row);
}

/**
 * The offers a caller may see: staff and members all of them; a partner its own, and the
 * operator's that its tills can apply (no partner list, or one that names it). Others answer as
 * offers never made.
 */
function visibleTo(actor: Principal) {
  if (actor.role !== "partner") return undefined;
  return or(
    eq(offers.partnerId, actor.partnerId),
    and(
      isNull(offers.partnerId),
      sql`(json_type(${offers.rules}, '$.conditions.partnerIds') IS NULL OR EXISTS (SELECT 1 FROM json_each(${offers.rules}, '$.conditions.partnerIds') WHERE value = ${actor.partnerId}))`,
    ),
  );
}

export async function findOffer(deps: Deps, actor: Principal, offerId: string): Promise<OfferRow> {
  const [row] = await deps.database.db.select().from(offers).where(and(eq(offers.id, offerId), visibleTo(actor)));
  if (!row) throw new AppError("not_found", `No offer ${offerId}.`);
  return row;
}

export async function listOffers(deps: Deps, actor: Principal, page: { cursor?: string | undefined; limit: number }) {
  const result = await newestFirst(deps.database.db, offers, page, visibleTo(actor));
  return { items: result.items.map((row) => offerView(row, actor)), nextCursor: result.nextCursor };
}

/** Pauses, resumes or ends an offer, or moves its end; only its owner (or an admin) may. */
export async function updateOffer(deps: Deps, actor: Principal, offerId: string, patch: { status?: OfferRow["status"] | undefined; validUntil?: string | null | undefined }) {
  const row = await findOffer(deps, actor, offerId);
  if (actor.role === "partner") {
    if (row.partnerId !== actor.partnerId) throw new AppError("forbidden", "Operator offers are managed by the operator.");
    // After the lookup: another partner's offer answers 404 whatever the key may do.
    assertScope(actor, "offers:write");
  }
  if (row.status === "ended") throw new AppError("forbidden", "An ended offer cannot change.");
  const validUntil = patch.validUntil === undefined ? row.validUntil : patch.validUntil === null ? null : timeOf("validUntil", patch.validUntil, null);
  if (validUntil !== null && validUntil <= row.validFrom) throw invalidField("validUntil", "Must be after validFrom", "validUntil must be after validFrom.");
  const updated = { ...row, status: patch.status ?? row.status, validUntil, updatedAt: deps.clock() };
  await deps.database.atomic([
    deps.database.db.update(offers).set({ status: updated.status, validUntil, updatedAt: updated.updatedAt }).where(eq(offers.id, offerId)),
    auditStatement(deps, actor, `offer.${patch.status ?? "update"}`, { type: "offer", id: offerId }),
  ]);
  return offerView(updated, actor);
}

/** An offer running at `at`: active, begun and not ended. */
const runningAt = (at: number | ReturnType<typeof sql.placeholder>) =>
  and(eq(offers.status, "active"), sql`${offers.validFrom} <= ${at}`, sql`(${offers.validUntil} IS NULL OR ${offers.validUntil} > ${at})`);

/** Offers that could apply at a partner's till at `at`: its own and the operator's, active. */
export async function offersAt(deps: Deps, partnerId: string, at: number): Promise<Offer[]> {
  // Every purchase asks: prepared once, as the other reads on the purchase path are.
  const query = prepared(deps.database.db, "offers.at", (db) =>
    db
      .select()
      .from(offers)
      .where(
        and(
          or(isNull(offers.partnerId), eq(offers.partnerId, sql.placeholder("partnerId"))),
          runningAt(sql.placeholder("at")),
        ),
      )
      .prepare(),
  );
  return (await query.all({ partnerId, at })).map(offerOf);
}

/** How often the member used each offer in the limit windows around `at`. */
export async function usesAround(deps: Deps, memberId: string, offerIds: string[], at: number, utcOffsetMinutes: number) {
  const windows = limitWindows(at, utcOffsetMinutes);
  const byKey = new Map(Object.entries(windows).map(([name, key]) => [key, name as LimitWindow]));
  const rows = offerIds.length
    ? await deps.database.db
        .select()
        .from(offerMemberUsage)
        .where(and(eq(offerMemberUsage.memberId, memberId), inArray(offerMemberUsage.offerId, offerIds), inArray(offerMemberUsage.window, [...byKey.keys()])))
    : [];
  const uses = new Map<string, Partial<Record<LimitWindow, number>>>();
  for (const row of rows) {
    const entry = uses.get(row.offerId) ?? {};
    entry[byKey.get(row.window)!] = row.uses;
    uses.set(row.offerId, entry);
  }
  return (offerId: string) => uses.get(offerId) ?? {};
}

/**
 * Statements recording the offers a purchase used. The budget and the member's limits are raised
 * relative to what the rows hold at commit; their CHECKs refuse a use beyond either.
 */
export function offerUseStatements(
  input: { purchaseId: string; memberId: string; occurredAt: number; utcOffsetMinutes: number },
  applied: AppliedOffer[],
  offersById: Map<string, Offer>,
): Statement[] {
  const windows = limitWindows(input.occurredAt, input.utcOffsetMinutes);
  return applied.flatMap((use) => [
    sql`INSERT INTO purchase_offers (purchase_id, offer_id, member_id, discount_minor, operator_funded_minor, points_cost, occurred_at)
        VALUES (${input.purchaseId}, ${use.offerId}, ${input.memberId}, ${use.discountMinor}, ${use.operatorFundedMinor}, ${use.pointsCost}, ${input.occurredAt})`,
    sql`UPDATE offers SET used_count = used_count + 1, used_amount_minor = used_amount_minor + ${use.discountMinor} WHERE id = ${use.offerId}`,
    ...limitsByWindow(offersById.get(use.offerId)!.limits).map(
      ([window, limit]) =>
        sql`INSERT INTO offer_member_usage (offer_id, member_id, window, uses, max_uses) VALUES (${use.offerId}, ${input.memberId}, ${windows[window]}, 1, ${limit})
            ON CONFLICT (offer_id, member_id, window) DO UPDATE SET uses = uses + 1, max_uses = excluded.max_uses`,
    ),
  ]);
}

type PurchaseOfferRow = typeof purchaseOffers.$inferSelect;

export async function offersOfPurchase(deps: Deps, purchaseId: string): Promise<PurchaseOfferRow[]> {
  return deps.database.db.select().from(purchaseOffers).where(eq(purchaseOffers.purchaseId, purchaseId));
}

/**
 * A refund takes back each offer's discount pro rata to the amount refunded (cumulative, so
 * partial refunds add up to the whole), returns that amount to the budget and, once the purchase
 * is fully refunded, the use itself: the budget's count and the member's limits.
 */
export function offerRefundStatements(
  input: { txnId: string; purchaseId: string; memberId: string; amountMinor: number; refundedAfterMinor: number; now: number; utcOffsetMinutes: number },
  uses: PurchaseOfferRow[],
  limitsOf: (offerId: string) => OfferLimits,
): { statements: Statement[]; discountReversedMinor: number } {
  const share = (minor: number) => (input.amountMinor === 0 ? minor : Number((BigInt(minor) * BigInt(input.refundedAfterMinor)) / BigInt(input.amountMinor)));
  const whole = input.refundedAfterMinor === input.amountMinor;
  let discountReversedMinor = 0;
  const statements = uses.flatMap((use) => {
    const discount = share(use.discountMinor) - use.refundedDiscountMinor;
    const operatorFunded = share(use.operatorFundedMinor) - use.refundedOperatorFundedMinor;
    discountReversedMinor += discount;
    const windows = limitWindows(use.occurredAt, input.utcOffsetMinutes);
    return [
      sql`INSERT INTO purchase_offer_refunds (txn_id, purchase_id, offer_id, discount_minor, operator_funded_minor, created_at)
          VALUES (${input.txnId}, ${input.purchaseId}, ${use.offerId}, ${discount}, ${operatorFunded}, ${input.now})`,
      sql`UPDATE purchase_offers SET refunded_discount_minor = refunded_discount_minor + ${discount},
                                      refunded_operator_funded_minor = refunded_operator_funded_minor + ${operatorFunded},
                                      released_at = ${whole ? input.now : null}
          WHERE purchase_id = ${input.purchaseId} AND offer_id = ${use.offerId}`,
      sql`UPDATE offers SET used_amount_minor = used_amount_minor - ${discount}, used_count = used_count - ${whole ? 1 : 0} WHERE id = ${use.offerId}`,
      ...(whole
        ? limitsByWindow(limitsOf(use.offerId)).map(
            ([window]) => sql`UPDATE offer_member_usage SET uses = uses - 1 WHERE offer_id = ${use.offerId} AND member_id = ${input.memberId} AND window = ${windows[window]}`,
          )
        : []),
    ];
  });
  return { statements, discountReversedMinor };
}

/**
 * What a member can use now, for the wallet and the till: offers whose time, tier, limits and
 * budget allow a use, leaving out what depends on the basket (minimum spend, categories, store).
 * A partner sees only the offers usable at its own till.
 */
export async function memberOffers(deps: Deps, actor: Principal, memberId: string) {
  const member = await findMemberRow(deps, memberId);
  const { program } = await currentProgram(deps);
  const at = deps.clock();
  const rows = await deps.database.db
    .select()
    .from(offers)
    .where(
      and(runningAt(at), visibleTo(actor)),
    )
    .orderBy(desc(offers.id));
  const { available } = await balanceOf(deps, memberId);
  const usesOf = await usesAround(deps, memberId, rows.map((r) => r.id), at, program.utcOffsetMinutes);
  const usable = rows.filter((row) => {
    const offer = offerOf(row);
    // Judged as for a basket the offer fits: the conditions a till's basket decides are set aside.
    const basketFree: Offer = { ...offer, conditions: { ...offer.conditions, minSpendMinor: undefined, categories: undefined, storeIds: undefined } };
    const partnerId = actor.role === "partner" ? actor.partnerId : (offer.partnerId ?? offer.conditions.partnerIds?.[0] ?? "");
    return ineligibility(basketFree, { at, utcOffsetMinutes: program.utcOffsetMinutes, partnerId, tierCode: member.tier, amountMinor: 0, availablePoints: available, usesOf }) === null;
  });
  return { items: usable.map((row) => offerView(row, actor)) };
}
