/**
 * Offers at the till: who may use an offer when, and what a set of offers gives on a purchase.
 * Pure and integer-only, so the quote and the committed purchase run the very same maths.
 *
 * Order of application (documented for partners): the partner's own offers before operator
 * offers; within each, percentages, then fixed amounts, then rewards paid in points; ties by id.
 * Each offer works on what earlier ones left of its eligible lines.
 *
 * Stacking: a non-stackable offer is never combined with another. Chosen automatically (no
 * `offerIds`), dangol takes whichever gives the member the larger discount — every stackable
 * discount together, or the best single non-stackable one (the earlier in order on a tie).
 * Rewards paid in points are never chosen automatically: they spend the member's points, so the
 * member (or the cashier for them) names them.
 */
import { z } from "../lib/zod.ts";
import { DAY_MS, isoDate } from "../lib/time.ts";

const Id = z.string().min(1).max(64);
const PositiveMinor = z.number().int().min(1).max(1e12);
const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 00:00–23:59");

export const OfferRewardSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("percent"), percentBps: z.number().int().min(1).max(10_000), maxDiscountMinor: PositiveMinor.optional() }).strict(),
  z.object({ kind: z.literal("amount"), amountMinor: PositiveMinor }).strict(),
  z.object({ kind: z.literal("points_reward"), pointsCost: z.number().int().min(1).max(1e9), rewardValueMinor: PositiveMinor }).strict(),
]);
export type OfferReward = z.infer<typeof OfferRewardSchema>;

export const OfferConditionsSchema = z
  .object({
    /** The purchase's amount must reach this. */
    minSpendMinor: z.number().int().min(0).max(1e12).optional(),
    /** Operator offers: only at these partners (default: every partner). */
    partnerIds: z.array(Id).min(1).max(100).optional(),
    storeIds: z.array(Id).min(1).max(500).optional(),
    /** Only these item categories are discounted; a purchase without items does not qualify. */
    categories: z.array(z.string().min(1).max(50)).min(1).max(50).optional(),
    tiers: z.array(z.string().min(1).max(20)).min(1).max(20).optional(),
    /** ISO weekdays, Monday = 1, in the program's time zone. */
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
    /** Local opening of the offer each day; `to` before `from` runs past midnight. */
    hours: z.object({ from: HourMinute, to: HourMinute }).strict().optional(),
  })
  .strict();
export type OfferConditions = z.infer<typeof OfferConditionsSchema>;

export const OfferLimitsSchema = z
  .object({
    perMemberPerDay: z.number().int().min(1).max(1e6).optional(),
    perMemberPerWeek: z.number().int().min(1).max(1e6).optional(),
    perMemberPerMonth: z.number().int().min(1).max(1e6).optional(),
    perMemberTotal: z.number().int().min(1).max(1e6).optional(),
  })
  .strict();
export type OfferLimits = z.infer<typeof OfferLimitsSchema>;

/** Everything about an offer that pricing needs. */
export interface Offer {
  id: string;
  /** null: the operator's, usable at every partner (or those in conditions.partnerIds). */
  partnerId: string | null;
  name: string;
  status: "active" | "paused" | "ended";
  reward: OfferReward;
  conditions: OfferConditions;
  limits: OfferLimits;
  stackable: boolean;
  /** The operator's share of the discount, in basis points; the partner funds the rest. */
  operatorFundedBps: number;
  validFrom: number;
  validUntil: number | null;
  budgetCount: number | null;
  budgetAmountMinor: number | null;
  usedCount: number;
  usedAmountMinor: number;
}

export interface PricedLine {
  sku?: string | undefined;
  category?: string | undefined;
  amountMinor: number;
  quantity?: number | undefined;
}

export interface PricingContext {
  at: number;
  utcOffsetMinutes: number;
  partnerId: string;
  storeId?: string | undefined;
  tierCode: string;
  amountMinor: number;
  lines?: PricedLine[] | undefined;
  availablePoints: number;
  /** The member's uses of an offer in each limit window that contains `at`. */
  usesOf(offerId: string): Partial<Record<LimitWindow, number>>;
}

export type LimitWindow = "day" | "week" | "month" | "total";

export interface AppliedOffer {
  offerId: string;
  name: string;
  kind: OfferReward["kind"];
  discountMinor: number;
  operatorFundedMinor: number;
  pointsCost: number;
}

export interface OfferPricing {
  applied: AppliedOffer[];
  discountMinor: number;
  /** Points the member pays for rewards. */
  pointsCost: number;
  /** The purchase's lines after the discounts (what earning and points work on). */
  lines: PricedLine[];
}

/** The window keys an offer use counts in, e.g. day:2026-03-02, week:2026-03-02 (its Monday). */
export function limitWindows(at: number, utcOffsetMinutes: number): Record<LimitWindow, string> {
  const local = new Date(at + utcOffsetMinutes * 60_000);
  const day = local.toISOString().slice(0, 10);
  const monday = isoDate(local.getTime() - ((local.getUTCDay() + 6) % 7) * DAY_MS);
  return { day: `day:${day}`, week: `week:${monday}`, month: `month:${day.slice(0, 7)}`, total: "total" };
}

/** The per-member limit of each window the offer has one for. */
export function limitsByWindow(limits: OfferLimits): Array<[LimitWindow, number]> {
  const out: Array<[LimitWindow, number | undefined]> = [
    ["day", limits.perMemberPerDay],
    ["week", limits.perMemberPerWeek],
    ["month", limits.perMemberPerMonth],
    ["total", limits.perMemberTotal],
  ];
  return out.filter((e): e is [LimitWindow, number] => e[1] !== undefined);
}

function minutesOfDay(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

/** The lines an offer discounts: all of them, or those of its categories. */
function eligibleLineIndexes(offer: Offer, lines: PricedLine[]): number[] {
  const categories = offer.conditions.categories;
  return lines.flatMap((line, i) => (!categories || (line.category !== undefined && categories.includes(line.category)) ? [i] : []));
}

const BUDGET_USED_UP = "The offer's budget is used up.";

/** True when the offer's global budget (count or amount) has nothing left. */
export function budgetExhausted(offer: Offer): boolean {
  return (offer.budgetCount !== null && offer.usedCount >= offer.budgetCount) || (offer.budgetAmountMinor !== null && offer.usedAmountMinor >= offer.budgetAmountMinor);
}

/** Why the member cannot use the offer on this purchase now, or null when they can. */
export function ineligibility(offer: Offer, ctx: PricingContext): string | null {
  const { conditions } = offer;
  if (offer.status !== "active") return `The offer is ${offer.status}.`;
  if (ctx.at < offer.validFrom) return "The offer has not started yet.";
  if (offer.validUntil !== null && ctx.at >= offer.validUntil) return "The offer has ended.";
  if (offer.partnerId !== null && offer.partnerId !== ctx.partnerId) return "The offer belongs to another partner.";
  if (conditions.partnerIds && !conditions.partnerIds.includes(ctx.partnerId)) return "The offer is not valid at this partner.";
  if (conditions.storeIds && (ctx.storeId === undefined || !conditions.storeIds.includes(ctx.storeId))) return "The offer is not valid at this store.";
  if (conditions.tiers && !conditions.tiers.includes(ctx.tierCode)) return `The offer is for ${conditions.tiers.join(", ")} members.`;
  const local = new Date(ctx.at + ctx.utcOffsetMinutes * 60_000);
  const weekday = ((local.getUTCDay() + 6) % 7) + 1;
  if (conditions.weekdays && !conditions.weekdays.includes(weekday)) return "The offer is not valid on this weekday.";
  if (conditions.hours) {
    const now = local.getUTCHours() * 60 + local.getUTCMinutes();
    const from = minutesOfDay(conditions.hours.from);
    const to = minutesOfDay(conditions.hours.to);
    const open = from <= to ? now >= from && now < to : now >= from || now < to;
    if (!open) return `The offer is valid ${conditions.hours.from}–${conditions.hours.to}.`;
  }
  if (ctx.amountMinor < (conditions.minSpendMinor ?? 0)) return `The offer needs a purchase of at least ${conditions.minSpendMinor}.`;
  const lines = ctx.lines?.length ? ctx.lines : [{ amountMinor: ctx.amountMinor }];
  if (eligibleLineIndexes(offer, lines).length === 0) return "Nothing on this purchase is in the offer's categories.";
  const uses = ctx.usesOf(offer.id);
  for (const [window, limit] of limitsByWindow(offer.limits)) {
    if ((uses[window] ?? 0) >= limit) return `The member has used this offer ${limit} time(s) this ${window === "total" ? "program" : window} already.`;
  }
  if (budgetExhausted(offer)) return BUDGET_USED_UP;
  if (offer.reward.kind === "points_reward" && ctx.availablePoints < offer.reward.pointsCost) {
    return `The reward costs ${offer.reward.pointsCost} points; the member has ${ctx.availablePoints}.`;
  }
  return null;
}

const kindOrder: Record<OfferReward["kind"], number> = { percent: 0, amount: 1, points_reward: 2 };

/** The documented order of application. */
export function applicationOrder(offers: Offer[]): Offer[] {
  return [...offers].sort(
    (a, b) => Number(a.partnerId === null) - Number(b.partnerId === null) || kindOrder[a.reward.kind] - kindOrder[b.reward.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** What one offer takes off the remaining lines (mutated), given the points it may still spend. */
function applyOne(offer: Offer, lines: PricedLine[], pointsLeft: number): AppliedOffer | null {
  const indexes = eligibleLineIndexes(offer, lines);
  const base = indexes.reduce((n, i) => n + lines[i]!.amountMinor, 0);
  const { reward } = offer;
  if (reward.kind === "points_reward" && pointsLeft < reward.pointsCost) return null;
  let discount =
    reward.kind === "percent"
      ? Math.min(Number((BigInt(base) * BigInt(reward.percentBps)) / 10_000n), reward.maxDiscountMinor ?? Infinity)
      : reward.kind === "amount"
        ? Math.min(reward.amountMinor, base)
        : Math.min(reward.rewardValueMinor, base);
  // An amount budget gives what is left of it, never more.
  if (offer.budgetAmountMinor !== null) discount = Math.min(discount, offer.budgetAmountMinor - offer.usedAmountMinor);
  if (discount <= 0) return null;
  // Taken from the eligible lines in order, so later offers see what is left of each.
  let left = discount;
  for (const i of indexes) {
    const take = Math.min(left, lines[i]!.amountMinor);
    lines[i] = { ...lines[i]!, amountMinor: lines[i]!.amountMinor - take };
    left -= take;
  }
  return {
    offerId: offer.id,
    name: offer.name,
    kind: reward.kind,
    discountMinor: discount,
    operatorFundedMinor: Number((BigInt(discount) * BigInt(offer.operatorFundedBps)) / 10_000n),
    pointsCost: reward.kind === "points_reward" ? reward.pointsCost : 0,
  };
}

function applyAll(offers: Offer[], ctx: PricingContext): OfferPricing {
  const lines = (ctx.lines?.length ? ctx.lines : [{ amountMinor: ctx.amountMinor }]).map((l) => ({ ...l }));
  const applied: AppliedOffer[] = [];
  let pointsLeft = ctx.availablePoints;
  for (const offer of applicationOrder(offers)) {
    const result = applyOne(offer, lines, pointsLeft);
    if (!result) continue;
    applied.push(result);
    pointsLeft -= result.pointsCost;
  }
  return {
    applied,
    discountMinor: applied.reduce((n, a) => n + a.discountMinor, 0),
    pointsCost: applied.reduce((n, a) => n + a.pointsCost, 0),
    lines,
  };
}

export class OfferRefused extends Error {
  constructor(
    readonly reason: "not_eligible" | "exhausted" | "not_combinable" | "unknown",
    readonly offerId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The offers a purchase gets. With `requested` ids, exactly those (each must be eligible and
 * they must combine); without, the automatic choice described at the top of this file.
 */
export function priceOffers(offers: Offer[], ctx: PricingContext, requested?: string[]): OfferPricing {
  if (requested !== undefined) {
    const chosen = requested.map((id) => {
      const offer = offers.find((o) => o.id === id);
      if (!offer) throw new OfferRefused("unknown", id, `No offer ${id} is available here.`);
      const reason = ineligibility(offer, ctx);
      if (reason) throw new OfferRefused(reason === BUDGET_USED_UP ? "exhausted" : "not_eligible", id, reason);
      return offer;
    });
    const lone = chosen.find((o) => !o.stackable);
    if (lone && chosen.length > 1) throw new OfferRefused("not_combinable", lone.id, `${lone.name} cannot be combined with other offers.`);
    const cost = chosen.reduce((n, o) => n + (o.reward.kind === "points_reward" ? o.reward.pointsCost : 0), 0);
    if (cost > ctx.availablePoints) throw new OfferRefused("not_eligible", chosen[0]!.id, `These rewards cost ${cost} points; the member has ${ctx.availablePoints}.`);
    return applyAll(chosen, ctx);
  }
  const automatic = offers.filter((o) => o.reward.kind !== "points_reward" && ineligibility(o, ctx) === null);
  const options = [applyAll(automatic.filter((o) => o.stackable), ctx), ...applicationOrder(automatic.filter((o) => !o.stackable)).map((o) => applyAll([o], ctx))];
  return options.reduce((best, option) => (option.discountMinor > best.discountMinor ? option : best));
}
