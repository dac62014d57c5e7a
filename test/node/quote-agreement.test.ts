/**
 * The quote and the committed purchase agree for the same input. Random offers (the partner's,
 * the operator's, another partner's; every kind, condition, limit and budget), a member with a
 * random tier and balance, a few earlier purchases that use up limits and budgets, then one body
 * sent to POST /v1/purchases/quote and to POST /v1/purchases at the same instant: both must give
 * the same answer, the quote must leave no trace, and the purchase must commit what it priced.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultProgram } from "../../src/domain/program.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner } from "../helpers/factories.ts";

const RUNS = 100;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const CATEGORIES = ["ticket", "snack", "drink"] as const;
const TIERS = ["basic", "silver", "gold", "vip"] as const;
const UNKNOWN_OFFER = "ofr_01JD0000000000000000000000";
/** n copies, for weighting fc.constantFrom. */
const rep = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

// ---- what is generated -----------------------------------------------------------------------

/** The value in about `percent` of cases, else undefined (fc.option cannot go below one in two). */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number) =>
  fc.oneof({ weight: percent, arbitrary: arb }, { weight: 100 - percent, arbitrary: fc.constant(undefined) });
const hourMinute = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);

const rewardArb = fc.oneof(
  fc.record({ kind: fc.constant("percent" as const), percentBps: fc.integer({ min: 1, max: 10_000 }), maxDiscountMinor: sometimes(fc.integer({ min: 1, max: 20_000 }), 50) }),
  fc.record({ kind: fc.constant("amount" as const), amountMinor: fc.integer({ min: 1, max: 30_000 }) }),
  fc.record({ kind: fc.constant("points_reward" as const), pointsCost: fc.integer({ min: 1, max: 6_000 }), rewardValueMinor: fc.integer({ min: 1, max: 20_000 }) }),
);

const anyOfferArb = fc.record({
  /** here: the operator's, limited to this partner; elsewhere: limited to another partner. */
  owner: fc.constantFrom(...rep(4, "partner"), ...rep(3, "operator"), ...rep(2, "operator_here"), "operator_elsewhere", "other_partner"),
  reward: rewardArb,
  conditions: fc.record({
    minSpendMinor: sometimes(fc.integer({ min: 0, max: 50_000 }), 25),
    categories: sometimes(fc.subarray([...CATEGORIES], { minLength: 1 }), 25),
    tiers: sometimes(fc.subarray([...TIERS], { minLength: 1 }), 20),
    weekdays: sometimes(fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }), 15),
    hours: sometimes(fc.record({ from: hourMinute, to: hourMinute }), 15),
  }),
  limits: fc.record({
    perMemberPerDay: sometimes(fc.integer({ min: 1, max: 3 }), 30),
    perMemberPerWeek: sometimes(fc.integer({ min: 1, max: 3 }), 10),
    perMemberPerMonth: sometimes(fc.integer({ min: 1, max: 3 }), 10),
    perMemberTotal: sometimes(fc.integer({ min: 1, max: 3 }), 10),
  }),
  budget: sometimes(fc.record({ count: sometimes(fc.integer({ min: 1, max: 5 }), 70), amountMinor: sometimes(fc.integer({ min: 1, max: 40_000 }), 50) }), 35),
  /** Share of the budget already used by other members (written straight to the row), 0–1. */
  budgetUsed: fc.constantFrom(0, 0, 0, 0.5, 0.9, 1),
  stackable: sometimes(fc.boolean(), 60),
  operatorFundedBps: sometimes(fc.integer({ min: 0, max: 10_000 }), 40),
  validity: fc.constantFrom(...rep(6, "now"), ...rep(3, "since_last_week"), "from_tomorrow", "ended_by_last_week"),
  status: fc.constantFrom(...rep(9, "active"), "paused"),
});
/** Half are plain — running now, here, for everyone — so that named and stacked offers get priced too. */
const offerArb = fc.oneof(
  { weight: 1, arbitrary: anyOfferArb },
  {
    weight: 1,
    arbitrary: anyOfferArb.map((o) => ({ ...o, owner: o.owner === "operator" ? o.owner : "partner", conditions: {}, validity: "now" as const, status: "active" as const, budgetUsed: 0 })),
  },
);

const itemsArb = fc.array(fc.record({ category: fc.constantFrom(...CATEGORIES), amountMinor: fc.integer({ min: 0, max: 25_000 }), quantity: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 4 });

const basketArb = fc.record({
  amountMinor: fc.integer({ min: 0, max: 60_000 }),
  items: sometimes(itemsArb, 40),
  redeemPoints: sometimes(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30_000 }) }), 35),
  /** undefined: automatic choice; else offers named by index (modulo their number): one, none or several, maybe an unknown id too. */
  offerPicks: sometimes(
    fc.record({
      indexes: fc.oneof(
        { weight: 3, arbitrary: fc.nat(4).map((i) => [i]) },
        { weight: 1, arbitrary: fc.constant<number[]>([]) },
        { weight: 2, arbitrary: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 2 }) },
      ),
      unknown: fc.constantFrom(...rep(5, false), true),
    }),
    40,
  ),
  backdateHours: fc.constantFrom(...rep(10, 0), 5, 30),
});

const scenarioArb = fc.record({
  program: fc.record({
    pendingDays: fc.constantFrom(0, 0, 3),
    redemption: fc.constantFrom({}, {}, { minPoints: 100 }, { maxPoints: 5_000 }, { minPoints: 10, maxPoints: 2_000 }),
    caps: fc.constantFrom({}, {}, { perPurchase: 50 }, { perDay: 120 }),
  }),
  /** Moves the clock first, so weekdays and hours fall differently from run to run. */
  startOffsetMinutes: fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }),
  tier: fc.constantFrom(...TIERS),
  startingPoints: fc.constantFrom(0, 500, 3_000, 20_000),
  offers: fc.array(offerArb, { minLength: 0, maxLength: 5, size: "max" }),
  earlier: fc.array(basketArb, { minLength: 0, maxLength: 3 }),
  /** Between the earlier purchases and the quote: a day limit resets, a week one may not. */
  gapHours: fc.constantFrom(0, 0, 1, 25),
  basket: basketArb,
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
type Basket = Scenario["basket"];
type OfferInput = Scenario["offers"][number];

// ---- what is compared ------------------------------------------------------------------------

interface AppliedOffer {
  offerId: string;
  name: string;
  kind: string;
  discountMinor: number;
  operatorFundedMinor: number;
  pointsCost: number;
}
interface Priced {
  receiptId: string;
  memberId: string;
  partnerId: string;
  amountMinor: number;
  currency: string;
  discountMinor: number;
  offers: AppliedOffer[];
  pointsRedeemed: number;
  pointsEarned: number;
  pointsPending: number;
  payableMinor: number;
  breakdown: Array<{ rule: string; points: number }>;
  occurredAt: string;
  balance: { available: number; pending: number };
}
interface OfferView {
  id: string;
  partnerId: string | null;
  stackable: boolean;
  budget: { count: number | null; amountMinor: number | null; usedCount: number; usedAmountMinor: number };
}
interface Problem {
  status: number;
  code: string;
  offerId?: string;
}

/** The fields the quote and the purchase share (the purchase adds its id, the quote pointsUsable). */
function priced(body: Priced) {
  const { receiptId, memberId, partnerId, amountMinor, currency, discountMinor, offers, pointsRedeemed, pointsEarned, pointsPending, payableMinor, breakdown, occurredAt } = body;
  return { receiptId, memberId, partnerId, amountMinor, currency, discountMinor, offers, pointsRedeemed, pointsEarned, pointsPending, payableMinor, breakdown, occurredAt };
}

async function replyOf(res: Response) {
  return { status: res.status, body: (await res.json()) as Priced & Problem };
}

// ---- one run ---------------------------------------------------------------------------------

let runs = 0;
let agreedOnSuccess = 0;
let withOffers = 0;

function offerBody(spec: OfferInput, i: number, ids: { partner: string; other: string }, now: number) {
  const conditions = { ...spec.conditions, ...(spec.owner === "operator_here" ? { partnerIds: [ids.partner] } : spec.owner === "operator_elsewhere" ? { partnerIds: [ids.other] } : {}) };
  const partnerId = spec.owner === "partner" ? ids.partner : spec.owner === "other_partner" ? ids.other : null;
  const budget = spec.budget && (spec.budget.count !== undefined || spec.budget.amountMinor !== undefined) ? spec.budget : undefined;
  const validity = {
    now: {},
    since_last_week: { validFrom: new Date(now - 7 * DAY_MS).toISOString() },
    from_tomorrow: { validFrom: new Date(now + DAY_MS).toISOString() },
    ended_by_last_week: { validFrom: new Date(now - 14 * DAY_MS).toISOString(), validUntil: new Date(now - 7 * DAY_MS).toISOString() },
  }[spec.validity];
  return {
    partnerId,
    name: `Offer ${i}`,
    reward: spec.reward,
    conditions,
    limits: spec.limits,
    ...(spec.stackable === undefined ? {} : { stackable: spec.stackable }),
    ...(spec.operatorFundedBps === undefined ? {} : { operatorFundedBps: spec.operatorFundedBps }),
    ...(budget ? { budget } : {}),
    ...validity,
  };
}

function purchaseBody(basket: Basket, card: { number: string }, receiptId: string, offerIds: string[], now: number) {
  const items = basket.items?.map((item, i) => ({ sku: `sku-${i}`, ...item }));
  const picks = basket.offerPicks;
  return {
    card: { number: card.number },
    receiptId,
    currency: "KRW",
    // Items, when there are any, always add up to the amount.
    amountMinor: items ? items.reduce((n, i) => n + i.amountMinor, 0) : basket.amountMinor,
    ...(items ? { items } : {}),
    ...(basket.redeemPoints === undefined ? {} : { redeemPoints: basket.redeemPoints }),
    ...(picks ? { offerIds: [...new Set(offerIds.length ? picks.indexes.map((i) => offerIds[i % offerIds.length]!) : []), ...(picks.unknown ? [UNKNOWN_OFFER] : [])] } : {}),
    ...(basket.backdateHours ? { occurredAt: new Date(now - basket.backdateHours * HOUR_MS).toISOString() } : {}),
  };
}

async function runScenario(s: Scenario) {
  runs++;
  const t: TestApp = await createTestApp({ LOG_LEVEL: "silent" });
  try {
    await expectStatus(
      await t.call("PUT", "/v1/program", {
        body: { ...defaultProgram, earning: { ...defaultProgram.earning, pendingDays: s.program.pendingDays, caps: s.program.caps }, redemption: s.program.redemption },
      }),
      200,
    );
    t.clock.advance(s.startOffsetMinutes * 60_000);
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const partner = await givenPartner(t);
    const other = await givenPartner(t, "달빛카페");
    t.database.sqlite.prepare("UPDATE members SET tier = ? WHERE id = ?").run(s.tier, member.id);
    if (s.startingPoints > 0) {
      await expectStatus(await t.call("POST", `/v1/members/${member.id}/adjustments`, { body: { points: s.startingPoints, reason: "quote agreement float" } }), 201);
    }

    const offerIds: string[] = [];
    const facts = new Map<string, { partnerOwned: boolean; stackable: boolean }>();
    for (const [i, spec] of s.offers.entries()) {
      const res = await expectStatus(await t.call("POST", "/v1/offers", { body: offerBody(spec, i, { partner: partner.id, other: other.id }, t.clock.now) }), 201);
      const offer = (await res.json()) as OfferView;
      offerIds.push(offer.id);
      facts.set(offer.id, { partnerOwned: offer.partnerId !== null, stackable: offer.stackable });
      if (spec.status !== "active") await expectStatus(await t.call("PATCH", `/v1/offers/${offer.id}`, { body: { status: spec.status } }), 200);
      if (spec.budgetUsed > 0 && (offer.budget.count !== null || offer.budget.amountMinor !== null)) {
        // Other members' uses, as if recorded earlier: within the budget, as its CHECKs demand.
        const usedCount = offer.budget.count === null ? 0 : Math.floor(offer.budget.count * spec.budgetUsed);
        const usedAmount = offer.budget.amountMinor === null ? 0 : Math.floor(offer.budget.amountMinor * spec.budgetUsed);
        t.database.sqlite.prepare("UPDATE offers SET used_count = ?, used_amount_minor = ? WHERE id = ?").run(usedCount, usedAmount, offer.id);
      }
    }

    // Earlier purchases at this till use up the member's limits, the budgets and some points;
    // whether each one is accepted does not matter, only that none breaks.
    for (const [i, basket] of s.earlier.entries()) {
      const res = await t.call("POST", "/v1/purchases", { token: partner.key, body: purchaseBody(basket, card, `early-${i}`, offerIds, t.clock.now) });
      expect(res.status, `earlier purchase ${i}: ${await res.clone().text()}`).toBeLessThan(500);
    }
    t.clock.advance(s.gapHours * HOUR_MS);

    const body = purchaseBody(s.basket, card, "final", offerIds, t.clock.now);
    const offersNow = () => Promise.all(offerIds.map(async (id) => (await (await expectStatus(await t.call("GET", `/v1/offers/${id}`), 200)).json()) as OfferView));
    const balanceNow = async () => (await (await expectStatus(await t.call("GET", `/v1/members/${member.id}/balance`), 200)).json()) as { available: number; pending: number; owed: number };
    const usageRows = () => t.database.sqlite.prepare("SELECT offer_id, window, uses FROM offer_member_usage ORDER BY offer_id, window").all();

    const offersBefore = await offersNow();
    const balanceBefore = await balanceNow();
    const usageBefore = usageRows();

    const quote = await replyOf(await t.call("POST", "/v1/purchases/quote", { token: partner.key, body }));

    // The quote leaves no trace: points, budgets, the member's limits.
    expect(await offersNow()).toEqual(offersBefore);
    expect(await balanceNow()).toEqual(balanceBefore);
    expect(usageRows()).toEqual(usageBefore);

    const sale = await replyOf(await t.call("POST", "/v1/purchases", { token: partner.key, body }));
    const context = JSON.stringify({ body, quote: quote.body, sale: sale.body });

    expect(sale.status, context).toBeLessThan(500);
    expect(quote.status === 200, context).toBe(sale.status === 201);
    if (quote.status !== 200) {
      // Refused alike: same status, same code, the same offer blamed.
      expect({ status: sale.status, code: sale.body.code, offerId: sale.body.offerId }, context).toEqual({ status: quote.status, code: quote.body.code, offerId: quote.body.offerId });
      expect(await offersNow()).toEqual(offersBefore);
      expect(await balanceNow()).toEqual(balanceBefore);
    } else {
      agreedOnSuccess++;
      if (sale.body.offers.length) withOffers++;
      expect(priced(sale.body), context).toEqual(priced(quote.body));
      expect(quote.body.balance, context).toEqual({ available: balanceBefore.available, pending: balanceBefore.pending });

      // What always holds of a priced purchase (a point pays ₩1 in this program).
      const p = sale.body;
      const redeemed = body.redeemPoints ?? 0;
      expect(p.payableMinor, context).toBe(body.amountMinor - p.discountMinor - redeemed);
      expect(p.payableMinor, context).toBeGreaterThanOrEqual(0);
      expect(p.discountMinor, context).toBeLessThanOrEqual(body.amountMinor);
      expect(p.discountMinor, context).toBe(p.offers.reduce((n, o) => n + o.discountMinor, 0));
      expect(p.pointsRedeemed, context).toBe(redeemed + p.offers.reduce((n, o) => n + o.pointsCost, 0));
      for (const o of p.offers) {
        expect(o.discountMinor, context).toBeGreaterThanOrEqual(1);
        expect(o.operatorFundedMinor, context).toBeGreaterThanOrEqual(0);
        expect(o.operatorFundedMinor, context).toBeLessThanOrEqual(o.discountMinor);
      }
      expect(p.offers.reduce((n, o) => n + o.operatorFundedMinor, 0), context).toBeLessThanOrEqual(p.discountMinor);
      expect(new Set(p.offers.map((o) => o.offerId)).size, context).toBe(p.offers.length);
      if (body.offerIds) {
        // Named offers: nothing else is applied.
        for (const o of p.offers) expect(body.offerIds, context).toContain(o.offerId);
      } else {
        // Chosen automatically: never a reward paid in points.
        expect(p.offers.every((o) => o.kind !== "points_reward"), context).toBe(true);
      }
      // A non-stackable offer is used alone.
      if (p.offers.some((o) => !facts.get(o.offerId)!.stackable)) expect(p.offers, context).toHaveLength(1);
      // In the documented order: the partner's before the operator's; percent, amount, points; then by id.
      const rank = (o: AppliedOffer) => [facts.get(o.offerId)!.partnerOwned ? 0 : 1, ["percent", "amount", "points_reward"].indexOf(o.kind), o.offerId] as const;
      const ordered = [...p.offers].sort((a, b) => {
        const [x, y] = [rank(a), rank(b)];
        return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
      });
      expect(p.offers.map((o) => o.offerId), context).toEqual(ordered.map((o) => o.offerId));

      // The purchase committed what it priced: each applied offer's budget moved by its use, no other.
      const offersAfter = await offersNow();
      for (const [i, before] of offersBefore.entries()) {
        const use = p.offers.find((o) => o.offerId === before.id);
        expect(offersAfter[i]!.budget, context).toEqual({
          ...before.budget,
          usedCount: before.budget.usedCount + (use ? 1 : 0),
          usedAmountMinor: before.budget.usedAmountMinor + (use?.discountMinor ?? 0),
        });
      }
      // No debt in these runs, so nothing is repaid: earned points land whole, now or pending.
      expect(p.balance, context).toEqual({
        available: balanceBefore.available - p.pointsRedeemed + (s.program.pendingDays > 0 ? 0 : p.pointsEarned),
        pending: balanceBefore.pending + p.pointsPending,
      });
    }
    await expectLedgerBalanced(t);
  } finally {
    await t.database.close();
  }
}

describe("the quote and the committed purchase", () => {
  it(`agree for the same input over ${RUNS} random tills (property test)`, async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), { numRuns: RUNS });
    expect(runs).toBeGreaterThanOrEqual(RUNS);
    // The generator reaches both outcomes, and purchases with offers applied.
    expect(agreedOnSuccess).toBeGreaterThan(RUNS / 5);
    expect(withOffers).toBeGreaterThan(0);
  }, 60_000);
});
