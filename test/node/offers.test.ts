/**
 * The POS flow with offers: verify the card, quote, purchase, refund — for each kind of offer —
 * with the member's balance, the offer's usage and budget checked at every step.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, memberToken, purchase, scannedCard } from "../helpers/factories.ts";

interface Applied {
  offerId: string;
  discountMinor: number;
  operatorFundedMinor: number;
  pointsCost: number;
}
interface Priced {
  purchaseId: string;
  discountMinor: number;
  offers: Applied[];
  pointsRedeemed: number;
  pointsEarned: number;
  payableMinor: number;
  pointsUsable: number;
  balance: { available: number };
}
interface OfferView {
  id: string;
  budget: { usedCount: number; usedAmountMinor: number };
}

let t: TestApp;
afterEach(async () => {
  if (t) await expectLedgerBalanced(t);
});

async function setup() {
  t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  return { member, card, partner };
}

async function givenOffer(body: Record<string, unknown>, token?: string) {
  const res = await expectStatus(await t.call("POST", "/v1/offers", { token, body: { name: "Test offer", ...body } }), 201);
  return (await res.json()) as OfferView;
}

async function json<T>(res: Response | Promise<Response>, status: number): Promise<T> {
  return (await (await expectStatus(await res, status)).json()) as T;
}

const quote = (partner: { key: string }, body: Record<string, unknown>) => t.call("POST", "/v1/purchases/quote", { token: partner.key, body: { receiptId: "Q-1", currency: "KRW", ...body } });

interface StatementView {
  points: { issued: number; reversed: number; redeemed: number; restored: number };
  amounts: Record<string, number>;
  netMinor: number;
  lines: Array<{ kind: string; amounts: Record<string, number> }>;
}

/** The partner's statement for the month of the test clock. */
async function statementOf(partnerId: string) {
  return json<StatementView>(t.call("GET", `/v1/partners/${partnerId}/statements/${new Date(t.clock.now).toISOString().slice(0, 7)}`), 200);
}

async function offerNow(id: string) {
  return json<OfferView>(t.call("GET", `/v1/offers/${id}`), 200);
}

async function setTier(memberId: string, tier: string) {
  t.database.sqlite.prepare("UPDATE members SET tier = ? WHERE id = ?").run(tier, memberId);
}

async function giveMemberPoints(memberId: string, points: number) {
  await expectStatus(await t.call("POST", `/v1/members/${memberId}/adjustments`, { body: { points, reason: "test float" } }), 201);
}

describe("a percentage offer for gold members", () => {
  it("is quoted, applied with its cap, funds as agreed, and is undone pro rata by a refund", async () => {
    const { member, card, partner } = await setup();
    await setTier(member.id, "gold");
    await giveMemberPoints(member.id, 5_000);
    const offer = await givenOffer({
      partnerId: partner.id,
      reward: { kind: "percent", percentBps: 2_000, maxDiscountMinor: 5_000 },
      conditions: { tiers: ["gold", "vip"] },
      operatorFundedBps: 5_000,
    });
    // The QR card: the quote leaves its token unused, the purchase spends points with it.
    const body = { card: await scannedCard(t, card), amountMinor: 30_000, redeemPoints: 2_000 };
    const q = await json<Priced>(quote(partner, body), 200);
    expect(q).toMatchObject({ discountMinor: 5_000, pointsRedeemed: 2_000, payableMinor: 23_000, pointsUsable: 5_000 });
    expect(q.offers).toEqual([{ offerId: offer.id, name: "Test offer", kind: "percent", discountMinor: 5_000, operatorFundedMinor: 2_500, pointsCost: 0 }]);

    const sale = await json<Priced>(purchase(t, partner, card, body), 201);
    // Earning is on what was paid in money: 30,000 − 5,000 discount − 2,000 in points, 1% × gold 1.5.
    expect(sale).toMatchObject({ discountMinor: 5_000, payableMinor: 23_000, pointsRedeemed: 2_000, pointsEarned: q.pointsEarned });
    expect(sale.pointsEarned).toBeGreaterThan(0);
    expect(await offerNow(offer.id)).toMatchObject({ budget: { usedCount: 1, usedAmountMinor: 5_000 } });

    // Refund a third: a third of the discount, of the points redeemed and of the points earned.
    const refund = await json<{ discountReversedMinor: number; pointsRestored: number; pointsClawedBack: number }>(
      t.call("POST", `/v1/purchases/${sale.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 10_000 } }),
      201,
    );
    // Of the ₩23,000 paid in cash, a third goes back over the counter.
    expect(refund).toMatchObject({ discountReversedMinor: 1_666, cashReturnedMinor: 7_666, pointsRestored: 666, pointsClawedBack: Math.floor(sale.pointsEarned / 3) });
    expect(await offerNow(offer.id)).toMatchObject({ budget: { usedCount: 1, usedAmountMinor: 5_000 - 1_666 } });
    // The rest: everything comes back, and the use no longer counts.
    const voided = await json<{ cashReturnedMinor: number }>(t.call("POST", `/v1/purchases/${sale.purchaseId}/void`, { token: partner.key }), 201);
    expect(voided.cashReturnedMinor).toBe(23_000 - 7_666);
    expect(await offerNow(offer.id)).toMatchObject({ budget: { usedCount: 0, usedAmountMinor: 0 } });
    const balance = await json<{ available: number }>(t.call("GET", `/v1/members/${member.id}/balance`), 200);
    expect(balance.available).toBe(5_000);

    // The month's statement: the sale, the refund and the void, each with its points and discounts;
    // everything given was taken back, so the partner and the operator owe each other nothing.
    const statement = await statementOf(partner.id);
    expect(statement.lines.map((l) => l.kind)).toEqual(["purchase", "refund", "void"]);
    const earned = sale.pointsEarned;
    expect(statement.points).toEqual({ issued: earned, reversed: earned, redeemed: 2_000, restored: 2_000 });
    expect(statement.lines[0]!.amounts).toMatchObject({ partnerFundedDiscountsMinor: 2_500, operatorFundedDiscountsMinor: 2_500 });
    expect(statement.lines[1]!.amounts).toMatchObject({ partnerFundedDiscountsReversedMinor: 1_666 - 833, operatorFundedDiscountsReversedMinor: 833 });
    expect(statement.amounts).toMatchObject({ operatorFundedDiscountsMinor: 2_500, operatorFundedDiscountsReversedMinor: 2_500, redemptionReimbursementMinor: 2_000, restorationChargeMinor: 2_000 });
    expect(statement.netMinor).toBe(0);
  });

  it("is not given to a silver member", async () => {
    const { card, partner } = await setup();
    const offer = await givenOffer({ partnerId: partner.id, reward: { kind: "percent", percentBps: 2_000 }, conditions: { tiers: ["gold"] } });
    const automatic = await json<Priced>(purchase(t, partner, card, { amountMinor: 10_000 }), 201);
    expect(automatic.offers).toEqual([]);
    const named = await purchase(t, partner, card, { amountMinor: 10_000, offerIds: [offer.id] });
    expect(named.status).toBe(422);
    expect(await named.json()).toMatchObject({ code: "offer_not_eligible", offerId: offer.id, errors: [{ field: "offerIds.0" }] });
  });
});

describe("a fixed-amount offer", () => {
  it("needs its minimum spend, applies to its categories only, and stacks after percentages", async () => {
    const { card, partner } = await setup();
    const percent = await givenOffer({ partnerId: partner.id, reward: { kind: "percent", percentBps: 1_000 } });
    const amount = await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 3_000 }, conditions: { minSpendMinor: 20_000, categories: ["snack"] } });
    const items = [
      { sku: "ticket", category: "ticket", amountMinor: 16_000, quantity: 2 },
      { sku: "popcorn", category: "snack", amountMinor: 6_000, quantity: 1 },
    ];
    const small = await json<Priced>(quote(partner, { card: { number: card.number }, amountMinor: 6_000, items: [{ ...items[1] }] }), 200);
    expect(small.offers.map((o) => o.offerId)).toEqual([percent.id]);
    const sale = await json<Priced>(purchase(t, partner, card, { amountMinor: 22_000, items }), 201);
    // 10% of 22,000 = 2,200 first (taken from the tickets, then the popcorn), then 3,000 off what is left of the popcorn.
    expect(sale.offers.map((o) => [o.offerId, o.discountMinor])).toEqual([
      [percent.id, 2_200],
      [amount.id, 3_000],
    ]);
    expect(sale.payableMinor).toBe(22_000 - 5_200);
    // A refund of the popcorn's share takes back the discounts pro rata, and the statement shows both.
    const refund = await json<{ discountReversedMinor: number }>(t.call("POST", `/v1/purchases/${sale.purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "popcorn", quantity: 1 }] } }), 201);
    expect(refund.discountReversedMinor).toBe(Math.floor((2_200 * 6_000) / 22_000) + Math.floor((3_000 * 6_000) / 22_000));
    expect(await offerNow(amount.id)).toMatchObject({ budget: { usedCount: 1, usedAmountMinor: 3_000 - Math.floor((3_000 * 6_000) / 22_000) } });
    const statement = await statementOf(partner.id);
    expect(statement.amounts).toMatchObject({ partnerFundedDiscountsMinor: 5_200, partnerFundedDiscountsReversedMinor: refund.discountReversedMinor });
  });

  it("a non-stackable offer is used alone: the better of it and the stackable ones", async () => {
    const { card, partner } = await setup();
    const small = await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 1_000 } });
    const big = await givenOffer({ partnerId: partner.id, reward: { kind: "percent", percentBps: 3_000 }, stackable: false });
    const sale = await json<Priced>(purchase(t, partner, card, { amountMinor: 10_000 }), 201);
    expect(sale.offers.map((o) => o.offerId)).toEqual([big.id]);
    const both = await purchase(t, partner, card, { amountMinor: 10_000, offerIds: [small.id, big.id] });
    expect(both.status).toBe(422);
    expect(((await both.json()) as { code: string }).code).toBe("offers_not_combinable");
  });
});

describe("a reward paid in points", () => {
  it("is used only when named, spends its points, and earns nothing on what the points paid", async () => {
    const { member, card, partner } = await setup();
    await giveMemberPoints(member.id, 3_500);
    const drink = await givenOffer({ partnerId: partner.id, name: "Free drink", reward: { kind: "points_reward", pointsCost: 3_000, rewardValueMinor: 4_500 } });
    const unnamed = await json<Priced>(purchase(t, partner, card, { amountMinor: 4_500 }), 201);
    expect(unnamed.offers).toEqual([]);
    const sale = await json<Priced>(purchase(t, partner, await scannedCard(t, card), { amountMinor: 6_000, offerIds: [drink.id] }), 201);
    expect(sale).toMatchObject({ discountMinor: 4_500, pointsRedeemed: 3_000, payableMinor: 1_500, pointsEarned: 15 });
    const again = await purchase(t, partner, await scannedCard(t, card), { amountMinor: 6_000, offerIds: [drink.id] });
    expect(again.status).toBe(422);
    expect(((await again.json()) as { code: string }).code).toBe("offer_not_eligible");
    expect(await json<{ available: number }>(t.call("GET", `/v1/members/${member.id}/balance`), 200)).toMatchObject({ available: 3_500 + 45 - 3_000 + 15 });
    expect(await offerNow(drink.id)).toMatchObject({ budget: { usedCount: 1, usedAmountMinor: 4_500 } });
    // The café is reimbursed for the 3,000 points spent there, and pays for the 60 it issued;
    // the drink itself is the café's own offer, shown but not settled.
    const statement = await statementOf(partner.id);
    expect(statement.points).toEqual({ issued: 45 + 15, reversed: 0, redeemed: 3_000, restored: 0 });
    expect(statement.amounts).toMatchObject({ partnerFundedDiscountsMinor: 4_500, operatorFundedDiscountsMinor: 0 });
    expect(statement.netMinor).toBe(60 - 3_000);
  });
});

describe("limits and budget", () => {
  it("counts a member's uses per day and frees a use when its purchase is voided", async () => {
    const { card, partner } = await setup();
    const offer = await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 500 }, limits: { perMemberPerDay: 1 } });
    const first = await json<Priced>(purchase(t, partner, card, { amountMinor: 5_000 }), 201);
    expect(first.offers).toHaveLength(1);
    expect((await json<Priced>(purchase(t, partner, card, { amountMinor: 5_000 }), 201)).offers).toEqual([]);
    await expectStatus(await t.call("POST", `/v1/purchases/${first.purchaseId}/void`, { token: partner.key }), 201);
    expect((await json<Priced>(purchase(t, partner, card, { amountMinor: 5_000 }), 201)).offers.map((o) => o.offerId)).toEqual([offer.id]);
    t.clock.advance(86_400_000);
    expect((await json<Priced>(purchase(t, partner, card, { amountMinor: 5_000 }), 201)).offers).toHaveLength(1);
  });

  it("gives the last units of a budget exactly once when 200 purchases race for 50", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const offer = await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 1_000 }, budget: { count: 50 } });
    const cards = await Promise.all(Array.from({ length: 20 }, async () => givenCard(t, (await givenMember(t)).id)));
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => purchase(t, partner, cards[i % cards.length]!, { amountMinor: 10_000, offerIds: [offer.id] }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }))),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(50);
    expect(replies.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === "offer_exhausted")).toBe(true);
    expect(await offerNow(offer.id)).toMatchObject({ budget: { usedCount: 50, usedAmountMinor: 50_000 } });
  });
});

describe("what a member can use now", () => {
  it("lists usable offers for the wallet, and only the partner's own and the operator's for its till", async () => {
    const { member, card, partner } = await setup();
    const other = await givenPartner(t, "달빛카페");
    const mine = await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 500 } });
    const theirs = await givenOffer({ partnerId: other.id, reward: { kind: "amount", amountMinor: 500 } });
    const coalition = await givenOffer({ reward: { kind: "percent", percentBps: 500 } });
    await givenOffer({ partnerId: partner.id, reward: { kind: "amount", amountMinor: 500 }, validFrom: new Date(T0 + 86_400_000).toISOString() });
    const token = await memberToken(t, member);
    const wallet = await json<{ items: OfferView[] }>(t.call("GET", `/v1/members/${member.id}/offers`, { token }), 200);
    expect(wallet.items.map((o) => o.id).sort()).toEqual([mine.id, theirs.id, coalition.id].sort());
    const till = await json<{ items: OfferView[] }>(t.call("GET", `/v1/members/${member.id}/offers`, { token: partner.key }), 200);
    expect(till.items.map((o) => o.id).sort()).toEqual([mine.id, coalition.id].sort());
    // The partner's own offer comes first; the operator's 5% works on what is left, and the operator funds it.
    const sale = await json<Priced>(purchase(t, partner, card, { amountMinor: 10_000 }), 201);
    expect(sale.offers.map((o) => [o.offerId, o.discountMinor, o.operatorFundedMinor])).toEqual([
      [mine.id, 500, 0],
      [coalition.id, 475, 475],
    ]);
  });
});

describe("the card token at the till", () => {
  it("pays for one purchase only, and a quote does not use it up", async () => {
    const { member, partner } = await setup();
    const token = await memberToken(t, member);
    const { token: cardToken } = await json<{ token: string }>(t.call("GET", "/v1/me/card/token", { token }), 200);
    await expectStatus(await quote(partner, { card: { token: cardToken }, amountMinor: 1_000 }), 200);
    await expectStatus(await t.call("POST", "/v1/purchases", { token: partner.key, body: { card: { token: cardToken }, receiptId: "T-1", amountMinor: 1_000, currency: "KRW" } }), 201);
    const again = await t.call("POST", "/v1/purchases", { token: partner.key, body: { card: { token: cardToken }, receiptId: "T-2", amountMinor: 1_000, currency: "KRW" } });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("card_token_used");
  });
});

describe("a partner's own offers", () => {
  async function keyWithOffers(partnerId: string) {
    const res = await expectStatus(await t.call("POST", `/v1/partners/${partnerId}/keys`, { body: { name: "Marketing", scopes: ["offers:write", "purchases:write", "cards:verify"] } }), 201);
    return ((await res.json()) as { key: string }).key;
  }

  it("are created and managed with offers:write, and never reach another partner's till", async () => {
    const { card, partner } = await setup();
    const other = await givenPartner(t, "달빛카페");
    const key = await keyWithOffers(partner.id);
    const otherKey = await keyWithOffers(other.id);
    const mine = await givenOffer({ reward: { kind: "amount", amountMinor: 700 } }, key);
    expect(mine).toMatchObject({ partnerId: partner.id, operatorFundedBps: 0 });

    // Not for another partner, not funded by the operator, not without the scope.
    const forOther = await t.call("POST", "/v1/offers", { token: key, body: { name: "x", partnerId: other.id, reward: { kind: "amount", amountMinor: 1 } } });
    expect(forOther.status).toBe(403);
    const funded = await t.call("POST", "/v1/offers", { token: key, body: { name: "x", reward: { kind: "amount", amountMinor: 1 }, operatorFundedBps: 5_000 } });
    expect(funded.status).toBe(400);
    const noScope = await t.call("POST", "/v1/offers", { token: partner.key, body: { name: "x", reward: { kind: "amount", amountMinor: 1 } } });
    expect(noScope.status).toBe(403);

    // The other partner cannot see, change or use it.
    expect((await t.call("GET", `/v1/offers/${mine.id}`, { token: otherKey })).status).toBe(404);
    expect((await t.call("PATCH", `/v1/offers/${mine.id}`, { token: otherKey, body: { status: "ended" } })).status).toBe(404);
    const list = await json<{ items: OfferView[] }>(t.call("GET", "/v1/offers", { token: otherKey }), 200);
    expect(list.items.map((o) => o.id)).not.toContain(mine.id);
    const used = await t.call("POST", "/v1/purchases", { token: otherKey, body: { card: { number: card.number }, receiptId: "X-1", amountMinor: 5_000, currency: "KRW", offerIds: [mine.id] } });
    expect(used.status).toBe(422);
    expect(await used.json()).toMatchObject({ code: "offer_not_eligible", offerId: mine.id });
    expect(await offerNow(mine.id)).toMatchObject({ budget: { usedCount: 0 } });

    // Its owner pauses it: no longer offered at the till, nor applied.
    await json(t.call("PATCH", `/v1/offers/${mine.id}`, { token: key, body: { status: "paused" } }), 200);
    const sale = await json<Priced>(purchase(t, partner, card, { amountMinor: 5_000 }), 201);
    expect(sale.offers).toEqual([]);
  });

  it("show on the till's card check with what the basket must meet", async () => {
    const { member, card, partner } = await setup();
    await giveMemberPoints(member.id, 4_000);
    const drink = await givenOffer({ partnerId: partner.id, name: "Free drink", reward: { kind: "points_reward", pointsCost: 3_000, rewardValueMinor: 4_500 } });
    const percent = await givenOffer({ partnerId: partner.id, reward: { kind: "percent", percentBps: 1_000 }, conditions: { minSpendMinor: 20_000 }, stackable: false });
    const summary = await json<{ offers: unknown[] }>(t.call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: card.number } }), 200);
    expect(summary.offers).toEqual([
      { id: percent.id, name: "Test offer", kind: "percent", minSpendMinor: 20_000, stackable: false, pointsCost: 0 },
      { id: drink.id, name: "Free drink", kind: "points_reward", minSpendMinor: 0, stackable: true, pointsCost: 3_000 },
    ]);
  });
});

describe("the operator's offers as a partner sees them (issue 11, found by the fuzzer)", () => {
  it("a partner sees only the operator's offers its tills can apply, and never the other partners they name", async () => {
    const { member, partner } = await setup();
    const other = await givenPartner(t, "한빛서점 종로");
    const third = await givenPartner(t, "카페 다온");
    const everywhere = await givenOffer({ reward: { kind: "amount", amountMinor: 500 } });
    const shared = await givenOffer({ reward: { kind: "amount", amountMinor: 700 }, conditions: { partnerIds: [partner.id, other.id] } });
    const elsewhere = await givenOffer({ reward: { kind: "amount", amountMinor: 900 }, conditions: { partnerIds: [other.id, third.id] } });

    const listed = await json<{ items: { id: string; conditions: { partnerIds?: string[] } }[] }>(t.call("GET", "/v1/offers", { token: partner.key }), 200);
    expect(listed.items.map((o) => o.id).sort()).toEqual([everywhere.id, shared.id].sort());
    const forMember = await json<{ items: { id: string }[] }>(t.call("GET", `/v1/members/${member.id}/offers`, { token: partner.key }), 200);
    expect(forMember.items.map((o) => o.id).sort()).toEqual([everywhere.id, shared.id].sort());
    const one = await json<{ conditions: { partnerIds?: string[] } }>(t.call("GET", `/v1/offers/${shared.id}`, { token: partner.key }), 200);
    // Valid here among others: which others is the operator's business.
    expect(one.conditions.partnerIds).toEqual([partner.id]);
    for (const body of [JSON.stringify(listed), JSON.stringify(forMember), JSON.stringify(one)]) {
      expect(body).not.toContain(other.id);
      expect(body).not.toContain(third.id);
    }
    // An operator offer of other partners' tills answers as one never made.
    const missing = await t.call("GET", `/v1/offers/${elsewhere.id}`, { token: partner.key });
    expect(missing.status).toBe(404);
    // Staff see the whole offer.
    expect((await json<{ conditions: { partnerIds: string[] } }>(t.call("GET", `/v1/offers/${elsewhere.id}`), 200)).conditions.partnerIds).toEqual([other.id, third.id]);
  });

  it("an operator offer may name only partners that exist", async () => {
    const { partner } = await setup();
    const res = await t.call("POST", "/v1/offers", { body: { name: "Typo", reward: { kind: "amount", amountMinor: 500 }, conditions: { partnerIds: [partner.id, "prt_00000000000000000000000000"] } } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "conditions.partnerIds.1" }] });
  });
});
