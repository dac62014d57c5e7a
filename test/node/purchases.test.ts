/** Purchases at the till: earning, redeeming, refunds, voids, business keys and Idempotency-Key. */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, purchase, scannedCard } from "../helpers/factories.ts";

interface Result {
  purchaseId: string;
  pointsEarned: number;
  pointsRedeemed: number;
  payableMinor: number;
  balance: { available: number; pending: number };
  breakdown: Array<{ rule: string; points: number }>;
}

let t: TestApp;

async function setup() {
  t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  return { member, card, partner };
}

afterEach(async () => {
  if (t) await expectLedgerBalanced(t);
});

describe("a purchase", () => {
  it("earns 1% of what was paid, rounded down, with the rule that gave it", async () => {
    const { card, partner, member } = await setup();
    const res = await expectStatus(await purchase(t, partner, card, { amountMinor: 12_345 }), 201);
    const body = (await res.json()) as Result;
    expect(body).toMatchObject({ pointsEarned: 123, pointsRedeemed: 0, payableMinor: 12_345, balance: { available: 123, pending: 0 } });
    expect(body.breakdown).toEqual([{ rule: "base_rate", rateBps: 100, amountMinor: 12_345, points: 123 }]);
    const balance = await (await t.call("GET", `/v1/members/${member.id}/balance`)).json();
    expect(balance).toMatchObject({ available: 123, pending: 0, owed: 0, expiring: [{ points: 123, expiresAt: "2028-03-02T09:00:00.000Z" }] });
  });

  it("redeems points for part of the amount, and earns nothing on that part", async () => {
    const { card, partner } = await setup();
    await expectStatus(await purchase(t, partner, card, { amountMinor: 50_000 }), 201); // 500 points
    const res = await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 10_000, redeemPoints: 300 }), 201);
    expect(await res.json()).toMatchObject({ pointsRedeemed: 300, payableMinor: 9_700, pointsEarned: 97, balance: { available: 500 - 300 + 97 } });
  });

  it("refuses to redeem more than the member has, and moves nothing", async () => {
    const { card, partner, member } = await setup();
    await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201); // 100 points
    const res = await purchase(t, partner, await scannedCard(t, card), { amountMinor: 10_000, redeemPoints: 101 });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("insufficient_points");
    const balance = (await (await t.call("GET", `/v1/members/${member.id}/balance`)).json()) as { available: number };
    expect(balance.available).toBe(100);
  });

  it("cannot be recorded twice for one receipt, even days later", async () => {
    const { card, partner } = await setup();
    const first = (await (await expectStatus(await purchase(t, partner, card, { receiptId: "R-1" }), 201)).json()) as Result;
    t.clock.advance(3 * 86_400_000);
    const again = await purchase(t, partner, card, { receiptId: "R-1", amountMinor: 99_000 });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "duplicate_receipt", purchaseId: first.purchaseId });
  });
});

describe("refunds and voids", () => {
  it("claw back earned points and restore redeemed points pro rata", async () => {
    const { card, partner, member } = await setup();
    await expectStatus(await purchase(t, partner, card, { amountMinor: 100_000 }), 201); // 1000 points
    const p = (await (await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 40_000, redeemPoints: 400 }), 201)).json()) as Result;
    expect(p).toMatchObject({ pointsEarned: 396, balance: { available: 1000 - 400 + 396 } });
    const half = await expectStatus(await t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 20_000 } }), 201);
    // ₩39,600 was paid in cash and 400 points: half the sale hands back ₩19,800 and 200 points.
    expect(await half.json()).toMatchObject({ cashReturnedMinor: 19_800, pointsClawedBack: 198, pointsRestored: 200, pointsOwed: 0, balance: { available: 996 - 198 + 200 } });
    const rest = await expectStatus(await t.call("POST", `/v1/purchases/${p.purchaseId}/void`, { token: partner.key }), 201);
    expect(await rest.json()).toMatchObject({ amountMinor: 20_000, cashReturnedMinor: 19_800, pointsClawedBack: 198, pointsRestored: 200, balance: { available: 1000 } });
    const again = await t.call("POST", `/v1/purchases/${p.purchaseId}/void`, { token: partner.key });
    expect(((await again.json()) as { code: string }).code).toBe("nothing_to_refund");
    const over = await t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 1 } });
    expect(over.status).toBe(409);
    const ledger = (await (await t.call("GET", `/v1/members/${member.id}/ledger`)).json()) as { items: Array<{ kind: string; points: number; description: string }> };
    expect(ledger.items.map((i) => [i.kind, i.points])).toEqual([
      ["void", 2],
      ["refund", 2],
      ["purchase", -4],
      ["purchase", 1000],
    ]);
    expect(ledger.items[3]!.description).toBe("Earned 1000 at 별빛시네마 강남, receipt r-" + ledger.items[3]!.description.split("receipt r-")[1]);
  });

  it("turns clawed-back points that were already spent into a debt repaid from the next earnings", async () => {
    const { card, partner, member } = await setup();
    const big = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 100_000 }), 201)).json()) as Result; // 1000
    await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 1_000, redeemPoints: 1_000 }), 201); // spends all
    const voided = await expectStatus(await t.call("POST", `/v1/purchases/${big.purchaseId}/void`, { token: partner.key }), 201);
    expect(await voided.json()).toMatchObject({ pointsClawedBack: 1000, pointsOwed: 1000, balance: { available: 0 } });
    expect(await (await t.call("GET", `/v1/members/${member.id}/balance`)).json()).toMatchObject({ available: 0, owed: 1000 });
    const next = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 60_000 }), 201)).json()) as Result;
    expect(next).toMatchObject({ pointsEarned: 600, balance: { available: 0 } });
    expect(next.breakdown.at(-1)).toEqual({ rule: "debt_repayment", points: -600 });
    expect(await (await t.call("GET", `/v1/members/${member.id}/balance`)).json()).toMatchObject({ available: 0, owed: 400 });
  });
});

describe("Idempotency-Key", () => {
  it("replays the stored response for the same key and body", async () => {
    const { card, partner } = await setup();
    const body = { receiptId: "K-1", amountMinor: 20_000 };
    const first = await expectStatus(await purchase(t, partner, card, body, { "idempotency-key": "abc" }), 201);
    const firstBody = await first.json();
    const replay = await expectStatus(await purchase(t, partner, card, body, { "idempotency-key": "abc" }), 201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(firstBody);
  });

  it("refuses the same key with another body (422)", async () => {
    const { card, partner } = await setup();
    await expectStatus(await purchase(t, partner, card, { receiptId: "K-2" }, { "idempotency-key": "k2" }), 201);
    const res = await purchase(t, partner, card, { receiptId: "K-3" }, { "idempotency-key": "k2" });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("idempotency_key_reused");
  });

  it("replays a refusal too, so a retry cannot suddenly succeed under the same key", async () => {
    const { card, partner } = await setup();
    const scanned = await scannedCard(t, card);
    const refused = await purchase(t, partner, scanned, { receiptId: "K-4", redeemPoints: 50 }, { "idempotency-key": "k4" });
    expect(refused.status).toBe(422);
    const replay = await purchase(t, partner, scanned, { receiptId: "K-4", redeemPoints: 50 }, { "idempotency-key": "k4" });
    expect(replay.status).toBe(422);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("offers on a purchase", () => {
  it("accepts an empty offerIds list and names an unknown offer precisely", async () => {
    const { card, partner } = await setup();
    await expectStatus(await purchase(t, partner, card, { offerIds: [] }), 201);
    const res = await purchase(t, partner, card, { offerIds: ["off_missing"] });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "offer_not_eligible", offerId: "off_missing", errors: [{ field: "offerIds.0", message: "No offer off_missing is available here." }] });
  });
});

describe("a key in flight", () => {
  it("is refused with 409 while its first request runs, and free again when it ends without an answer", async () => {
    const { claimKey, releaseClaim } = await import("../../src/services/idempotency/keys.ts");
    t = await createTestApp();
    const id = { scope: "partner:p1", route: "POST /v1/purchases", key: "k-flight", body: { a: 1 } };
    const first = await claimKey(t.deps, id);
    expect(first.kind).toBe("claimed");
    await expect(claimKey(t.deps, id)).rejects.toMatchObject({ code: "idempotency_in_flight" });
    if (first.kind === "claimed") releaseClaim(first.claim);
    expect((await claimKey(t.deps, id)).kind).toBe("claimed");
  });

  it("lets two simultaneous requests with one key record one purchase", async () => {
    const { card, partner, member } = await setup();
    const body = { receiptId: "K-race", amountMinor: 30_000 };
    const [a, b] = await Promise.all([purchase(t, partner, card, body, { "idempotency-key": "race" }), purchase(t, partner, card, body, { "idempotency-key": "race" })]);
    const outcomes = [a, b].map((r) => `${r.status}${r.headers.get("idempotent-replayed") ? " replayed" : ""}`).sort();
    expect([["201", "409"], ["201", "201 replayed"]]).toContainEqual(outcomes);
    const balance = (await (await t.call("GET", `/v1/members/${member.id}/balance`)).json()) as { available: number };
    expect(balance.available).toBe(300);
  });
});

describe("refunding items", () => {
  const items = [
    { sku: "TICKET", category: "tickets", amountMinor: 24_000, quantity: 2 },
    { sku: "POPCORN", category: "snacks", amountMinor: 10_000, quantity: 3 },
  ];

  it("returns the items' share of the amount and points, and never the same unit twice", async () => {
    const { card, partner } = await setup();
    const p = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 34_000, items }), 201)).json()) as Result;
    expect(p.pointsEarned).toBe(340);
    const popcorn = async (quantity: number) => t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "POPCORN", quantity }] } });
    // One of three popcorns: ⌊10,000 / 3⌋ = 3,333, and its points pro rata.
    expect(await (await expectStatus(await popcorn(1), 201)).json()).toMatchObject({ amountMinor: 3_333, pointsClawedBack: 33 });
    // The other two return the rest of the line exactly: 6,667.
    expect(await (await expectStatus(await popcorn(2), 201)).json()).toMatchObject({ amountMinor: 6_667 });
    const again = await popcorn(1);
    expect(again.status).toBe(422);
    expect(await again.json()).toMatchObject({ code: "refund_exceeds_remaining", errors: [{ field: "items.0.quantity", message: "At most 0" }] });
    const unknown = await t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "NACHOS", quantity: 1 }] } });
    expect(await unknown.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "items.0.sku" }] });
    // The tickets and then the purchase as a whole: every won and point comes back, no more.
    await expectStatus(await t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "TICKET", quantity: 2 }] } }), 201);
    expect(await (await t.call("GET", `/v1/purchases/${p.purchaseId}`, { token: partner.key })).json()).toMatchObject({ refundedMinor: 34_000, pointsClawedBack: 340, status: "refunded" });
  });

  it("needs a purchase recorded with items", async () => {
    const { card, partner } = await setup();
    const p = (await (await expectStatus(await purchase(t, partner, card), 201)).json()) as Result;
    const res = await t.call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "X", quantity: 1 }] } });
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "items" }] });
  });
});
