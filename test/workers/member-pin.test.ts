/**
 * The member's PIN on D1, through the Workers entry: PBKDF2 through workerd's WebCrypto, and the
 * attempt counted by a conditional UPDATE in D1 before the comparison, so wrong PINs sent at once
 * still lock it after 5. Mirrors test/node/member-pin.test.ts.
 */
import { describe, expect, it } from "vitest";
import { call, expectStatus, givenCard, givenMember, givenPartner, jsonOf, memberToken, scannedCard, unique } from "./client.ts";

const PIN = "583071";
const WRONG = "692804";

async function givenTill() {
  const member = await givenMember();
  const card = await givenCard(member.id);
  const partner = await givenPartner();
  await expectStatus(await call("POST", `/v1/members/${member.id}/adjustments`, { body: { points: 1_000, reason: "opening balance" } }), 201);
  const memberJwt = await memberToken(member.email!);
  await expectStatus(await call("PUT", "/v1/me/pin", { token: memberJwt, body: { pin: PIN } }), 204);
  const spend = (presented: { number: string; pin?: string } | { token: string }) =>
    call("POST", "/v1/purchases", { token: partner.key, body: { card: presented, receiptId: `p-${unique()}`, amountMinor: 10_000, currency: "KRW", redeemPoints: 300 } });
  return { member, card, memberJwt, spend };
}

const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

describe("spending points on a typed number on D1", () => {
  it("needs the PIN or the QR card; earning needs neither", async () => {
    const { member, card, spend } = await givenTill();
    const refused = await expectStatus(await spend({ number: card.number }), 422);
    expect(await refused.json()).toMatchObject({ code: "member_presence_required", accepted: ["card.token", "card.pin"] });
    expect(await jsonOf(await spend({ number: card.number, pin: PIN }), 201)).toMatchObject({ pointsRedeemed: 300, payableMinor: 9_700 });
    expect(await jsonOf(await spend(await scannedCard(member)), 201)).toMatchObject({ pointsRedeemed: 300 });
    const partner = await givenPartner();
    const earned = await call("POST", "/v1/purchases", { token: partner.key, body: { card: { number: card.number }, receiptId: `e-${unique()}`, amountMinor: 10_000, currency: "KRW" } });
    expect(await jsonOf(earned, 201)).toMatchObject({ pointsEarned: 100, pointsRedeemed: 0 });
  });

  it("locks the PIN after 5 wrong ones, however many arrive at once, until the member sets a new one", async () => {
    const { member, card, memberJwt, spend } = await givenTill();
    const codes = await Promise.all(Array.from({ length: 15 }, async () => codeOf(await expectStatus(await spend({ number: card.number, pin: WRONG }), 422))));
    expect(codes.filter((c) => c === "pin_invalid")).toHaveLength(5);
    expect(codes.filter((c) => c === "pin_locked")).toHaveLength(10);
    expect(await codeOf(await expectStatus(await spend({ number: card.number, pin: PIN }), 422))).toBe("pin_locked");
    expect(await jsonOf(await call("GET", "/v1/me", { token: memberJwt }), 200)).toMatchObject({ pin: { set: true, locked: true } });
    expect(await jsonOf(await call("GET", `/v1/members/${member.id}/balance`), 200)).toMatchObject({ available: 1_000 });

    await expectStatus(await call("PUT", "/v1/me/pin", { token: memberJwt, body: { pin: "260419" } }), 204);
    expect(await jsonOf(await spend({ number: card.number, pin: "260419" }), 201)).toMatchObject({ pointsRedeemed: 300 });
  });
});
