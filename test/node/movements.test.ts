/**
 * One write path (src/services/movements.ts): on the Node server every point movement — purchase,
 * refund, void, adjustment, the points jobs — runs on the writer thread, and answers exactly as it
 * does in place (on D1, in tests): the same bodies, the same refusals, the same replays.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServerTestApp, createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, givenCard, givenMember, givenPartner, scannedCard } from "../helpers/factories.ts";

interface Answer {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** Ids and times differ between two databases and clocks; everything else must not. */
function comparable(text: string): unknown {
  return JSON.parse(text.replace(/\b[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}\b/g, "<id>").replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>").replace(/"requestId":"[^"]+"/g, '"requestId":"<id>"'));
}

/** The same story on either app: every movement, a replay, and refusals. */
async function story(t: TestApp): Promise<Record<string, Answer>> {
  const partner = await givenPartner(t);
  const member = await givenMember(t, { phone: null });
  const card = await givenCard(t, member.id);
  const answers: Record<string, Answer> = {};
  const call = async (name: string, method: string, path: string, opts: { token?: string; body?: unknown; key?: string }) => {
    const res = await t.call(method, path, { ...(opts.token && { token: opts.token }), ...(opts.body !== undefined && { body: opts.body }), ...(opts.key && { headers: { "idempotency-key": opts.key } }) });
    answers[name] = { status: res.status, body: comparable(await res.text()), replayed: res.headers.get("idempotent-replayed") === "true" };
    return answers[name]!;
  };
  await call("adjustment", "POST", `/v1/members/${member.id}/adjustments`, { body: { points: 1_000, reason: "opening balance" }, key: "adj-1" });
  await call("adjustment replayed", "POST", `/v1/members/${member.id}/adjustments`, { body: { points: 1_000, reason: "opening balance" }, key: "adj-1" });
  await call("overdrawing adjustment", "POST", `/v1/members/${member.id}/adjustments`, { body: { points: -1_000_000, reason: "too much" } });
  const items = [
    { sku: "ticket", category: "movie", amountMinor: 15_000, quantity: 1 },
    { sku: "popcorn", category: "snacks", amountMinor: 5_000, quantity: 1 },
  ];
  const sale = { card: await scannedCard(t, card), receiptId: "M-1", amountMinor: 20_000, currency: "KRW", items, redeemPoints: 500 };
  const bought = await call("purchase", "POST", "/v1/purchases", { token: partner.key, body: sale, key: "sale-1" });
  expect(bought.status).toBe(201);
  const purchases = await t.call("GET", `/v1/members/${member.id}/ledger`);
  const purchaseId = ((await purchases.json()) as { items: { purchaseId: string | null }[] }).items.find((i) => i.purchaseId)!.purchaseId!;
  await call("refund by amount", "POST", `/v1/purchases/${purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 5_000 }, key: "refund-1" });
  await call("refund replayed", "POST", `/v1/purchases/${purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 5_000 }, key: "refund-1" });
  await call("refund by item", "POST", `/v1/purchases/${purchaseId}/refunds`, { token: partner.key, body: { items: [{ sku: "popcorn", quantity: 1 }] } });
  await call("refund too large", "POST", `/v1/purchases/${purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 1_000_000 } });
  await call("void", "POST", `/v1/purchases/${purchaseId}/void`, { token: partner.key, key: "void-1" });
  await call("void again", "POST", `/v1/purchases/${purchaseId}/void`, { token: partner.key });
  await call("points jobs", "POST", "/v1/jobs/points", {});
  await call("balance", "GET", `/v1/members/${member.id}/balance`, {});
  await expectLedgerBalanced(t);
  return answers;
}

let server: Awaited<ReturnType<typeof createServerTestApp>>;
let inPlace: Record<string, Answer>;
let onWriter: Record<string, Answer>;

beforeAll(async () => {
  inPlace = await story(await createTestApp());
  server = await createServerTestApp();
  onWriter = await story(server);
}, 60_000);

afterAll(async () => {
  await server.close();
});

describe("every point movement on the writer thread", () => {
  it("is posted there: purchase, refund and void, adjustment, the points jobs", () => {
    expect(new Set(server.moved)).toEqual(new Set(["adjustPoints", "recordPurchase", "refundPurchase", "runPointsJobs"]));
    // Replays are answered from the stored response on the main thread: nothing is posted for them.
    expect(server.moved.filter((n) => n === "refundPurchase")).toHaveLength(5);
  });

  it.each(["adjustment", "adjustment replayed", "overdrawing adjustment", "purchase", "refund by amount", "refund replayed", "refund by item", "refund too large", "void", "void again", "points jobs", "balance"])(
    "%s answers as it does in place",
    (name) => {
      expect(onWriter[name]).toEqual(inPlace[name]);
    },
  );

  it("the story is the one it should be (so that agreeing means something)", () => {
    expect(inPlace["adjustment"]!.status).toBe(201);
    expect(inPlace["adjustment replayed"]).toMatchObject({ status: 201, replayed: true });
    expect(inPlace["overdrawing adjustment"]!.body).toMatchObject({ code: "insufficient_points" });
    expect(inPlace["refund by amount"]).toMatchObject({ status: 201, body: { amountMinor: 5_000 } });
    expect(inPlace["refund replayed"]).toMatchObject({ status: 201, replayed: true });
    expect(inPlace["refund by item"]).toMatchObject({ status: 201, body: { amountMinor: 5_000 } });
    expect(inPlace["refund too large"]!.body).toMatchObject({ code: "refund_exceeds_remaining" });
    expect(inPlace["void"]).toMatchObject({ status: 201, body: { amountMinor: 10_000 } });
    expect(inPlace["void again"]!.body).toMatchObject({ code: "nothing_to_refund" });
    expect(inPlace["points jobs"]!.status).toBe(200);
  });
});
