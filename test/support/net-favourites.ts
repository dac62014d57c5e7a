/**
 * Favourites net of refunds (issue 12), shared by the in-process and D1 suites, each sending
 * through its own transport: a cinema visit whose tickets go back, leaving the popcorn, and a
 * coffee partly refunded. The favourites count the money as monetaryMinor does, 11,000 in all.
 */
import { expect } from "vitest";
import type { Send } from "./refund-race.ts";

interface Partner {
  id: string;
  key: string;
}

export async function expectFavouritesNetOfRefunds(send: Send, s: { memberId: string; card: { number: string }; cinema: Partner; cafe: Partner; tag: string }) {
  const buy = async (partner: Partner, receipt: string, body: object) => {
    const reply = await send("POST", "/v1/purchases", partner.key, { card: { number: s.card.number }, receiptId: `${s.tag}-${receipt}`, currency: "KRW", ...body });
    expect(reply.status).toBe(201);
    return reply.body.purchaseId as string;
  };
  const refund = async (partner: Partner, purchaseId: string, body: object) => expect((await send("POST", `/v1/purchases/${purchaseId}/refunds`, partner.key, body)).status).toBe(201);
  const items = [
    { sku: "ticket", category: "ticket", amountMinor: 20_000, quantity: 2 },
    { sku: "popcorn", category: "snack", amountMinor: 8_000, quantity: 1 },
  ];
  await refund(s.cinema, await buy(s.cinema, "cinema", { amountMinor: 28_000, items }), { items: [{ sku: "ticket", quantity: 2 }] });
  await refund(s.cafe, await buy(s.cafe, "coffee", { amountMinor: 5_000 }), { amountMinor: 2_000 });

  const { profile } = (await send("GET", `/v1/members/${s.memberId}/profile?reason=marketing_review`, undefined)).body;
  expect(profile.monetaryMinor).toBe(11_000);
  expect(profile.favouritePartners).toEqual([
    { partnerId: s.cinema.id, purchases: 1, amountMinor: 8_000 },
    { partnerId: s.cafe.id, purchases: 1, amountMinor: 3_000 },
  ]);
  // The tickets went back: what is left of the cinema visit is the popcorn.
  expect(profile.favouriteCategories).toEqual([
    { category: "snack", purchases: 1, amountMinor: 8_000 },
    { category: "cinema", purchases: 1, amountMinor: 3_000 },
    { category: "ticket", purchases: 1, amountMinor: 0 },
  ]);
}
