/**
 * Offers on D1, through the Workers entry: the same SQL as on Node — the member's daily limit and
 * the global budget raised in the purchase's batch and guarded by CHECKs, a refund taking the
 * discount back pro rata, a void freeing the use, simultaneous purchases racing for the last
 * units of a budget, and a card token that pays once.
 * Only partner offers are made here: D1 keeps its rows across the tests of this file, and an
 * operator offer would reach every other test's till.
 */
import { afterEach, describe, expect, it } from "vitest";
import { call, expectStatus, givenCard, givenMember, givenPartner, jsonOf, memberToken, unique, uniqueEmail, type Problem } from "./client.ts";

interface AppliedOffer {
  offerId: string;
  name: string;
  kind: string;
  discountMinor: number;
  operatorFundedMinor: number;
  pointsCost: number;
}

interface Priced {
  discountMinor: number;
  offers: AppliedOffer[];
  pointsRedeemed: number;
  pointsEarned: number;
  pointsPending: number;
  payableMinor: number;
  breakdown: Array<{ rule: string; points: number }>;
}

interface PurchaseResult extends Priced {
  purchaseId: string;
  balance: { available: number; pending: number };
}

interface OfferView {
  id: string;
  budget: { count: number | null; amountMinor: number | null; usedCount: number; usedAmountMinor: number };
}

interface RefundResult {
  amountMinor: number;
  discountReversedMinor: number;
  pointsClawedBack: number;
}

type Partner = Awaited<ReturnType<typeof givenPartner>>;
type Card = Awaited<ReturnType<typeof givenCard>>;

afterEach(async () => {
  await expectLedgerOk();
});

async function expectLedgerOk() {
  expect(await jsonOf<{ ok: boolean; violations: unknown[] }>(await call("GET", "/v1/admin/ledger/check"), 200)).toEqual({ ok: true, violations: [] });
}

async function givenOffer(partner: Partner, body: Record<string, unknown>) {
  return jsonOf<OfferView>(await call("POST", "/v1/offers", { body: { partnerId: partner.id, name: "D1 offer", ...body } }), 201);
}

async function offerNow(id: string) {
  return jsonOf<OfferView>(await call("GET", `/v1/offers/${id}`), 200);
}

async function givenCardholder() {
  const member = await givenMember();
  return { member, card: await givenCard(member.id) };
}

function purchaseBody(card: Card, body: Record<string, unknown> = {}) {
  return { card: { number: card.number }, receiptId: `o-${unique()}`, amountMinor: 10_000, currency: "KRW", ...body };
}

function purchase(partner: Partner, card: Card, body: Record<string, unknown> = {}) {
  return call("POST", "/v1/purchases", { token: partner.key, body: purchaseBody(card, body) });
}

/** The fields a quote and a purchase share. */
function priced({ discountMinor, offers, pointsRedeemed, pointsEarned, pointsPending, payableMinor, breakdown }: Priced): Priced {
  return { discountMinor, offers, pointsRedeemed, pointsEarned, pointsPending, payableMinor, breakdown };
}

// A limit per member in total, not per day: D1 runs on the real clock, and a day's limit would
// make the test depend on not straddling local midnight.
describe("an offer with a per-member limit and a budget of 3, on D1", () => {
  it("quote → purchase, the limit, a refund pro rata, a void that frees the use, and the budget's end", async () => {
    const partner = await givenPartner();
    const { member, card } = await givenCardholder();
    const offer = await givenOffer(partner, {
      reward: { kind: "percent", percentBps: 2_000, maxDiscountMinor: 5_000 },
      limits: { perMemberTotal: 1 },
      budget: { count: 3 },
    });

    // The till quotes, then records the same body: 20% of 30,000 capped at 5,000.
    const body = purchaseBody(card, { amountMinor: 30_000, offerIds: [offer.id] });
    const quote = await jsonOf<Priced>(await call("POST", "/v1/purchases/quote", { token: partner.key, body }), 200);
    expect(quote).toMatchObject({ discountMinor: 5_000, payableMinor: 25_000, pointsEarned: 250 });
    expect(quote.offers).toEqual([{ offerId: offer.id, name: "D1 offer", kind: "percent", discountMinor: 5_000, operatorFundedMinor: 0, pointsCost: 0 }]);
    expect((await offerNow(offer.id)).budget).toEqual({ count: 3, amountMinor: null, usedCount: 0, usedAmountMinor: 0 });

    const sale = await jsonOf<PurchaseResult>(await call("POST", "/v1/purchases", { token: partner.key, body }), 201);
    expect(priced(sale)).toEqual(priced(quote));
    expect(sale.balance).toEqual({ available: 250, pending: 0 });
    expect((await offerNow(offer.id)).budget).toMatchObject({ usedCount: 1, usedAmountMinor: 5_000 });

    // Once per member: named, it is refused; left to the automatic choice, it is not given.
    const named = await purchase(partner, card, { offerIds: [offer.id] });
    expect(named.status).toBe(422);
    expect(await named.json()).toMatchObject({ code: "offer_not_eligible", offerId: offer.id });
    expect((await jsonOf<PurchaseResult>(await purchase(partner, card), 201)).offers).toEqual([]);

    // A third refunded: a third of the discount (rounded down) goes back to the budget; the use stays.
    const refund = await jsonOf<RefundResult>(await call("POST", `/v1/purchases/${sale.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 10_000 } }), 201);
    expect(refund).toMatchObject({ amountMinor: 10_000, discountReversedMinor: 1_666, pointsClawedBack: 83 });
    expect((await offerNow(offer.id)).budget).toMatchObject({ usedCount: 1, usedAmountMinor: 5_000 - 1_666 });

    // The void takes back the rest of the discount and frees the use: the count and the member's limit.
    const voided = await jsonOf<RefundResult>(await call("POST", `/v1/purchases/${sale.purchaseId}/void`, { token: partner.key }), 201);
    expect(voided).toMatchObject({ amountMinor: 20_000, discountReversedMinor: 5_000 - 1_666 });
    expect((await offerNow(offer.id)).budget).toMatchObject({ usedCount: 0, usedAmountMinor: 0 });
    expect(await jsonOf<{ refundedDiscountMinor: number; status: string }>(await call("GET", `/v1/purchases/${sale.purchaseId}`, { token: partner.key }), 200)).toMatchObject({
      refundedDiscountMinor: 5_000,
      status: "refunded",
    });
    const again = await jsonOf<PurchaseResult>(await purchase(partner, card, { amountMinor: 10_000 }), 201);
    expect(again.offers.map((o) => [o.offerId, o.discountMinor])).toEqual([[offer.id, 2_000]]);

    // Two more members take the last two units; the fourth finds the budget spent.
    for (let i = 0; i < 2; i++) {
      const other = await givenCardholder();
      await expectStatus(await purchase(partner, other.card, { offerIds: [offer.id] }), 201);
    }
    expect((await offerNow(offer.id)).budget).toEqual({ count: 3, amountMinor: null, usedCount: 3, usedAmountMinor: 6_000 });
    const late = await givenCardholder();
    const exhausted = await purchase(partner, late.card, { offerIds: [offer.id] });
    expect(exhausted.status).toBe(409);
    expect(await exhausted.json()).toMatchObject({ code: "offer_exhausted", offerId: offer.id });
    expect((await jsonOf<PurchaseResult>(await purchase(partner, late.card), 201)).offers).toEqual([]);
    // The voided sale's 250 points are clawed back; 100 from the plain purchase and 80 from the last remain.
    expect((await jsonOf<{ available: number }>(await call("GET", `/v1/members/${member.id}/balance`), 200)).available).toBe(100 + 80);
  });
});

describe("simultaneous purchases on D1", () => {
  it("12 purchases race for a budget with 5 units left: exactly 5 get the offer, 7 are 409 offer_exhausted", async () => {
    const partner = await givenPartner();
    const offer = await givenOffer(partner, { reward: { kind: "amount", amountMinor: 1_000 }, budget: { count: 7 } });
    // Two units used before the rush.
    for (let i = 0; i < 2; i++) {
      const early = await givenCardholder();
      await expectStatus(await purchase(partner, early.card, { offerIds: [offer.id] }), 201);
    }
    expect((await offerNow(offer.id)).budget).toMatchObject({ usedCount: 2, usedAmountMinor: 2_000 });

    const cards = await Promise.all(Array.from({ length: 12 }, async () => (await givenCardholder()).card));
    const replies = await Promise.all(
      cards.map(async (card) => {
        const res = await purchase(partner, card, { offerIds: [offer.id] });
        return { status: res.status, body: (await res.json()) as Partial<PurchaseResult & Problem & { offerId: string }> };
      }),
    );
    const won = replies.filter((r) => r.status === 201);
    const lost = replies.filter((r) => r.status !== 201);
    expect(won).toHaveLength(5);
    expect(won.every((r) => r.body.discountMinor === 1_000 && r.body.offers?.[0]?.offerId === offer.id)).toBe(true);
    expect(lost.map((r) => [r.status, r.body.code, r.body.offerId])).toEqual(Array.from({ length: 7 }, () => [409, "offer_exhausted", offer.id]));
    expect((await offerNow(offer.id)).budget).toEqual({ count: 7, amountMinor: null, usedCount: 7, usedAmountMinor: 7_000 });
    await expectLedgerOk();
  });
});

describe("the card token at the till on D1", () => {
  it("a quote leaves it unused; it pays for one purchase only", async () => {
    const email = uniqueEmail("token");
    const member = await givenMember({ email });
    await givenCard(member.id);
    const token = await memberToken(email);
    const partner = await givenPartner();
    const { token: cardToken } = await jsonOf<{ token: string }>(await call("GET", "/v1/me/card/token", { token }), 200);
    const body = (receiptId: string) => ({ card: { token: cardToken }, receiptId, amountMinor: 1_000, currency: "KRW" });

    await expectStatus(await call("POST", "/v1/purchases/quote", { token: partner.key, body: body(`t-${unique()}`) }), 200);
    await expectStatus(await call("POST", "/v1/purchases", { token: partner.key, body: body(`t-${unique()}`) }), 201);
    const again = await call("POST", "/v1/purchases", { token: partner.key, body: body(`t-${unique()}`) });
    expect(again.status).toBe(409);
    expect(((await again.json()) as Problem).code).toBe("card_token_used");
    expect((await jsonOf<{ available: number }>(await call("GET", `/v1/members/${member.id}/balance`), 200)).available).toBe(10);
  });
});
