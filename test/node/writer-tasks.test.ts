/**
 * On the Node server a purchase runs on the writer thread (src/writer-tasks.ts). It must answer
 * exactly as it does in place: the same body, the same refusals with their codes and fields, and
 * the same Idempotency-Key replay.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServerTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, memberToken, purchase, scannedCard } from "../helpers/factories.ts";

let t: TestApp & { close(): Promise<void> };

beforeAll(async () => {
  t = await createServerTestApp();
});

afterAll(async () => {
  await t.close();
});

describe("purchases run on the writer thread", () => {
  it("is where the server runs them", () => {
    expect(t.database.runTask).toBeTypeOf("function");
  });

  it("records a purchase and replays it under its Idempotency-Key", async () => {
    const partner = await givenPartner(t);
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const headers = { "idempotency-key": "till-1-0001" };
    const first = await expectStatus(await purchase(t, partner, card, { receiptId: "w-1", amountMinor: 20_000 }, headers), 201);
    const body = (await first.json()) as { pointsEarned: number; memberId: string; balance: { available: number } };
    expect(body.memberId).toBe(member.id);
    expect(body.pointsEarned).toBeGreaterThan(0);
    expect(body.balance.available).toBe(body.pointsEarned);

    const replay = await expectStatus(await purchase(t, partner, card, { receiptId: "w-1", amountMinor: 20_000 }, headers), 201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(body);
    await expectLedgerBalanced(t);
  });

  it("refuses with the code and fields it refuses with in place", async () => {
    const partner = await givenPartner(t, "별빛서점");
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const first = (await (await expectStatus(await purchase(t, partner, card, { receiptId: "w-2" }), 201)).json()) as { purchaseId: string };

    const resent = await expectStatus(await purchase(t, partner, card, { receiptId: "w-2" }), 409);
    expect(resent.headers.get("content-type")).toContain("application/problem+json");
    expect(await resent.json()).toMatchObject({ code: "duplicate_receipt", purchaseId: first.purchaseId });

    const overdrawn = await expectStatus(await purchase(t, partner, await scannedCard(t, card), { receiptId: "w-3", redeemPoints: 1_000_000, amountMinor: 2_000_000 }), 422);
    expect(await overdrawn.json()).toMatchObject({ code: "insufficient_points" });

    const wrongCurrency = await expectStatus(await purchase(t, partner, card, { receiptId: "w-4", currency: "USD" }), 400);
    expect(await wrongCurrency.json()).toMatchObject({ code: "validation_failed", errors: [expect.objectContaining({ field: "currency" })] });
    await expectLedgerBalanced(t);
  });

  it("takes a member's QR card token, signed by the main thread's key ring, once", async () => {
    const partner = await givenPartner(t, "별빛카페");
    const member = await givenMember(t);
    await givenCard(t, member.id);
    const token = await memberToken(t, member);
    const minted = await expectStatus(await t.call("GET", "/v1/me/card/token", { token }), 200);
    const { token: cardToken } = (await minted.json()) as { token: string };
    const sale = { card: { token: cardToken }, amountMinor: 5_000, currency: "KRW" };
    const first = await expectStatus(await t.call("POST", "/v1/purchases", { token: partner.key, body: { ...sale, receiptId: "q-1" } }), 201);
    expect(((await first.json()) as { memberId: string }).memberId).toBe(member.id);
    const again = await expectStatus(await t.call("POST", "/v1/purchases", { token: partner.key, body: { ...sale, receiptId: "q-2" } }), 409);
    expect(await again.json()).toMatchObject({ code: "card_token_used" });
  });

  it("checks a member's PIN where the purchase is decided, counting attempts however many race", async () => {
    const partner = await givenPartner(t, "별빛문구");
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    await expectStatus(await t.call("POST", `/v1/members/${member.id}/adjustments`, { body: { points: 1_000, reason: "opening balance" } }), 201);
    const token = await memberToken(t, member);
    await expectStatus(await t.call("PUT", "/v1/me/pin", { token, body: { pin: "583071" } }), 204);
    const spend = (pin?: string) => purchase(t, partner, card, { card: { number: card.number, ...(pin && { pin }) }, redeemPoints: 100 });
    expect(await (await expectStatus(await spend(), 422)).json()).toMatchObject({ code: "member_presence_required", accepted: ["card.token", "card.pin"] });
    expect(await (await expectStatus(await spend("583071"), 201)).json()).toMatchObject({ pointsRedeemed: 100 });
    const codes = await Promise.all(Array.from({ length: 15 }, async () => ((await (await expectStatus(await spend("692804"), 422)).json()) as { code: string }).code));
    expect(codes.sort()).toEqual([...Array(5).fill("pin_invalid"), ...Array(10).fill("pin_locked")]);
    expect(await (await expectStatus(await spend("583071"), 422)).json()).toMatchObject({ code: "pin_locked" });
    await expectLedgerBalanced(t);
  });

  it("rejects a task it does not know", async () => {
    await expect(t.database.runTask!("noSuchTask", {})).rejects.toThrow(/No writer task noSuchTask/);
  });
});
