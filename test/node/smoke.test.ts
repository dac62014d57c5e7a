import { describe, expect, it } from "vitest";
import { createTestApp } from "../helpers/app.ts";
import { givenCard, givenMember, givenPartner, memberToken } from "../helpers/factories.ts";

describe("the POS flow", () => {
  it("enrols, issues a card, mints a token and verifies it at a partner", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const token = await memberToken(t, member);
    const minted = (await (await t.call("GET", "/v1/me/card/token", { token })).json()) as { token: string };
    expect(minted.token.length).toBeLessThanOrEqual(213);
    const partner = await givenPartner(t);
    const res = await t.call("POST", "/v1/cards/verify", { token: partner.key, body: { token: minted.token } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ memberId: member.id, cardNumber: card.number, displayName: "김*준", tier: "basic", balance: { available: 0 }, offers: [] });
  });
});
