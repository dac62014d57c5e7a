/**
 * Racing refunds (issue 11, finding 4), shared by the in-process, multi-process and D1 suites,
 * each sending through its own transport. A purchase of 10,000 paid partly with 2,000 points is
 * refunded by many requests at once. However they interleave, each is refunded or refused for what
 * is left — never a 500, never concurrent_update — and together they refund the purchase exactly:
 * its amount, the 80 points it earned clawed back and the 2,000 it redeemed restored.
 */
import { expect } from "vitest";

export interface Reply {
  status: number;
  // A JSON body as the server sent it; the assertions below name the fields they read.
  body: any;
}

/** One request through the suite's transport, with a bearer token (the admin's when undefined). */
export type Send = (method: string, path: string, token: string | undefined, body?: unknown) => Promise<Reply>;

/** A race: what is sent at once (a number is a refund of that amount, "void" a void), and what only this race must give. */
export interface RefundRace {
  name: string;
  requests: Array<number | "void">;
  expectOwn(replies: Reply[]): void;
}

const RACED = { amountMinor: 10_000, redeemPoints: 2_000, pointsEarned: 80 } as const;

const voidsAt = (requests: Array<number | "void">, at: number[]) => requests.map((r, i) => (at.includes(i) ? "void" : r));

export const refundRaces: RefundRace[] = [
  {
    name: "60 refunds of 1,000 on 10,000: ten are refunded, fifty find nothing left",
    requests: Array.from({ length: 60 }, () => 1_000),
    expectOwn: (replies) => expect(tally(replies)).toEqual({ 201: 10, "409 nothing_to_refund": 50 }),
  },
  {
    name: "20 refunds of 500 on 10,000: all of them fit, and all are refunded",
    requests: Array.from({ length: 20 }, () => 500),
    expectOwn: (replies) => expect(tally(replies)).toEqual({ 201: 20 }),
  },
  {
    name: "3 voids racing 60 refunds of 3,000: one void takes what the refunds leave",
    requests: voidsAt(Array.from({ length: 63 }, () => 3_000), [5, 31, 58]),
    expectOwn(replies) {
      const won = (isVoid: boolean) => replies.filter((r, i) => (this.requests[i] === "void") === isVoid && r.status === 201).length;
      expect(won(true)).toBe(1);
      expect(won(false)).toBeLessThanOrEqual(3);
    },
  },
];

/**
 * Runs a race on a purchase of its own and checks all of it: the replies, the purchase and the
 * member after it, and the ledger. `context` goes with a failure (e.g. the server's error log).
 */
export async function runRefundRace(send: Send, race: RefundRace, tag: string, context: () => string = () => "") {
  const purchase = await givenRacedPurchase(send, tag);
  const replies = await Promise.all(
    race.requests.map((r) =>
      r === "void"
        ? send("POST", `/v1/purchases/${purchase.purchaseId}/void`, purchase.partnerKey)
        : send("POST", `/v1/purchases/${purchase.purchaseId}/refunds`, purchase.partnerKey, { amountMinor: r }),
    ),
  );
  expectOnlyRefundsAndRefusals(replies, context());
  race.expectOwn(replies);
  await expectRefundedWhole(send, purchase);
}

/** How many replies of each status and code, e.g. { "201": 10, "409 nothing_to_refund": 50 }. */
export function tally(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status, body } of replies) {
    const key = status === 201 ? "201" : `${status} ${body?.code ?? "?"}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export interface RacedPurchase {
  memberId: string;
  partnerKey: string;
  purchaseId: string;
}

async function expectReply(send: Send, status: number, method: string, path: string, token?: string, body?: unknown) {
  const reply = await send(method, path, token, body);
  if (reply.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body as Record<string, any>;
}

/** A member with 2,000 points who buys for 10,000 with them: the 8,000 paid in cash earns 80. */
export async function givenRacedPurchase(send: Send, tag: string): Promise<RacedPurchase> {
  const member = await expectReply(send, 201, "POST", "/v1/members", undefined, { name: "김환불", email: `refund-race-${tag}@example.com` });
  await expectReply(send, 201, "POST", `/v1/members/${member.id}/cards`);
  const partner = await expectReply(send, 201, "POST", "/v1/partners", undefined, { name: "별빛시네마 강남", category: "cinema" });
  const key = await expectReply(send, 201, "POST", `/v1/partners/${partner.id}/keys`, undefined, { name: "POS 1", scopes: ["purchases:write"] });
  await expectReply(send, 201, "POST", `/v1/members/${member.id}/adjustments`, undefined, { points: RACED.redeemPoints, reason: "refund race fixture" });
  // Points are spent with the member's QR card, as proof that the member is at the till: the
  // member signs in with the code from the outbox (written just after start answers) and shows it.
  const email = member.email as string;
  await expectReply(send, 202, "POST", "/v1/auth/member/start", undefined, { email });
  let code: string | undefined;
  for (let i = 0; i < 100 && !code; i++) {
    const outbox = await expectReply(send, 200, "GET", `/v1/outbox?recipient=${encodeURIComponent(email)}&limit=1`);
    code = /\b(\d{6})\b/.exec((outbox.items as Array<{ body: string }>)[0]?.body ?? "")?.[1];
    if (!code) await new Promise((r) => setTimeout(r, 20));
  }
  const session = await expectReply(send, 200, "POST", "/v1/auth/member/verify", undefined, { email, code });
  const shown = await expectReply(send, 200, "GET", "/v1/me/card/token", session.token as string);
  const bought = await expectReply(send, 201, "POST", "/v1/purchases", key.key, {
    card: { token: shown.token },
    receiptId: `race-${tag}`,
    amountMinor: RACED.amountMinor,
    currency: "KRW",
    redeemPoints: RACED.redeemPoints,
  });
  expect(bought).toMatchObject({ pointsRedeemed: RACED.redeemPoints, pointsEarned: RACED.pointsEarned, pointsPending: 0 });
  return { memberId: member.id, partnerKey: key.key, purchaseId: bought.purchaseId };
}

const REFUSALS = new Set(["409 nothing_to_refund", "422 refund_exceeds_remaining"]);

/** Refunds and refusals for what is left, nothing else; the refunds add up to the purchase, and the points they moved to the pro-rata totals. */
function expectOnlyRefundsAndRefusals(replies: Reply[], context: string) {
  const unexpected = replies.filter((r) => r.status !== 201 && !REFUSALS.has(`${r.status} ${r.body?.code}`));
  expect(
    unexpected.slice(0, 5).map((r) => ({ status: r.status, body: r.body })),
    `unexpected replies ${JSON.stringify(tally(unexpected))} of ${JSON.stringify(tally(replies))}${context && `\n${context}`}`,
  ).toEqual([]);
  const refunds = replies.filter((r) => r.status === 201).map((r) => r.body);
  const sum = (field: string) => refunds.reduce((n, b) => n + (b[field] as number), 0);
  expect({ amountMinor: sum("amountMinor"), pointsClawedBack: sum("pointsClawedBack"), pointsRestored: sum("pointsRestored"), pointsOwed: sum("pointsOwed") }).toEqual({
    amountMinor: RACED.amountMinor,
    pointsClawedBack: RACED.pointsEarned,
    pointsRestored: RACED.redeemPoints,
    pointsOwed: 0,
  });
  expect(refunds.filter((b) => b.amountMinor === 0), "a refund of nothing").toEqual([]);
}

/** The purchase and the member as the race leaves them: refunded whole, the points as before the purchase; and the ledger reconciles. */
async function expectRefundedWhole(send: Send, purchase: RacedPurchase) {
  expect(await expectReply(send, 200, "GET", `/v1/purchases/${purchase.purchaseId}`, purchase.partnerKey)).toMatchObject({
    refundedMinor: RACED.amountMinor,
    pointsClawedBack: RACED.pointsEarned,
    pointsRestored: RACED.redeemPoints,
    status: "refunded",
  });
  expect(await expectReply(send, 200, "GET", `/v1/members/${purchase.memberId}/balance`)).toMatchObject({ available: RACED.redeemPoints, pending: 0, owed: 0 });
  expect(await expectReply(send, 200, "GET", "/v1/admin/ledger/check")).toEqual({ ok: true, violations: [] });
}
