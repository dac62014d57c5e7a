/**
 * The customer profile on D1, where a purchase's share of it runs inside the purchase's batch: a
 * back-dated purchase on a day not yet counted recounts the purchase days in SQL, and refunds take
 * back from the favourites as from monetaryMinor (the same scenario as test/node/profiles.test.ts).
 */
import { describe, expect, it } from "vitest";
import { expectFavouritesNetOfRefunds } from "../support/net-favourites.ts";
import type { Send } from "../support/refund-race.ts";
import { call, givenCard, givenMember, givenPartner, jsonOf, unique } from "./client.ts";

const DAY_MS = 86_400_000;

const send: Send = async (method, path, token, body) => {
  const res = await call(method, path, { ...(token !== undefined && { token }), body });
  return { status: res.status, body: await res.json() };
};

describe("the profile on D1", () => {
  it("counts a back-dated purchase on a day not yet counted, and a second one on that day once", async () => {
    const member = await givenMember();
    const card = await givenCard(member.id);
    const partner = await givenPartner();
    const tag = unique();
    for (const [i, daysAgo] of [0, 3, 3, 10, 0].entries()) {
      const body = { card: { number: card.number }, receiptId: `${tag}-${i}`, amountMinor: 10_000, currency: "KRW", occurredAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString() };
      expect((await send("POST", "/v1/purchases", partner.key, body)).status).toBe(201);
    }
    const { profile } = await jsonOf<{ profile: { purchaseCount: number; purchaseDays: number } }>(await call("GET", `/v1/members/${member.id}/profile?reason=marketing_review`), 200);
    expect(profile).toMatchObject({ purchaseCount: 5, purchaseDays: 3 });
  });

  it("counts favourites net of refunds, as monetaryMinor does", async () => {
    const member = await givenMember();
    await expectFavouritesNetOfRefunds(send, { memberId: member.id, card: await givenCard(member.id), cinema: await givenPartner(), cafe: await givenPartner("달빛카페"), tag: unique() });
  });
});
