/**
 * The points ledger on D1, through the Workers entry: the immutability triggers (also inside a
 * batch), the purchase flow with redemptions, refunds, voids, business keys and Idempotency-Key,
 * concurrent redemptions serialised by D1, concurrent refunds of one purchase, and the cron
 * handler expiring points.
 * The numbers mirror test/node/purchases.test.ts so both runtimes are held to the same answers.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/database.ts";
import { openD1 } from "../../db/d1.ts";
import { ledgerEntries, memberBalances, members } from "../../db/schema.ts";
import { localDate } from "../../src/domain/expiry.ts";
import worker, { type Env as WorkerEnv } from "../../src/worker.ts";
import { refundRaces, runRefundRace, type Send } from "../support/refund-race.ts";
import { call, expectStatus, givenCard, givenMember, givenPartner, jsonOf, scannedCard, unique, uniqueEmail, type Problem } from "./client.ts";

const PARTNER_NAME = "별빛시네마 강남";
const DAY_MS = 86_400_000;

interface PurchaseResult {
  purchaseId: string;
  receiptId: string;
  pointsEarned: number;
  pointsRedeemed: number;
  pointsPending: number;
  payableMinor: number;
  balance: { available: number; pending: number };
  breakdown: Array<{ rule: string; points: number; [key: string]: unknown }>;
}

interface RefundResult {
  refundId: string;
  purchaseId: string;
  amountMinor: number;
  pointsClawedBack: number;
  pointsRestored: number;
  pointsOwed: number;
  balance: { available: number; pending: number };
}

interface LedgerItem {
  id: string;
  kind: string;
  reasonCode: string;
  description: string;
  points: number;
  pendingPoints: number;
  owedPoints: number;
  purchaseId: string | null;
  correctsTransactionId: string | null;
}

interface Balance {
  available: number;
  pending: number;
  owed: number;
  expiring: Array<{ points: number; expiresAt: string }>;
}

type Partner = Awaited<ReturnType<typeof givenPartner>>;
type Card = Awaited<ReturnType<typeof givenCard>>;

let database: Database;

beforeAll(() => {
  database = openD1(env.DB);
});

// Every test that moves points leaves a ledger whose invariants hold (as the Node suite checks).
afterEach(async () => {
  await expectLedgerOk();
});

async function expectLedgerOk() {
  const result = await jsonOf<{ ok: boolean; violations: unknown[] }>(await call("GET", "/v1/admin/ledger/check"), 200);
  expect(result).toEqual({ ok: true, violations: [] });
}

async function givenTill() {
  const member = await givenMember();
  const card = await givenCard(member.id);
  const partner = await givenPartner(PARTNER_NAME);
  return { member, card, partner };
}

/** A sale at the till: the card typed in, or scanned (spending points needs the member there). */
function purchase(partner: Partner, card: Card | { token: string }, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return call("POST", "/v1/purchases", {
    token: partner.key,
    headers,
    body: { card: "token" in card ? { token: card.token } : { number: card.number }, receiptId: `r-${unique()}`, amountMinor: 10_000, currency: "KRW", ...body },
  });
}

async function adjust(memberId: string, points: number, reason: string) {
  return jsonOf<{ transactionId: string; points: number; balance: { available: number; pending: number } }>(
    await call("POST", `/v1/members/${memberId}/adjustments`, { body: { points, reason } }),
    201,
  );
}

async function balanceOf(memberId: string) {
  return jsonOf<Balance>(await call("GET", `/v1/members/${memberId}/balance`), 200);
}

async function ledgerOf(memberId: string) {
  return (await jsonOf<{ items: LedgerItem[] }>(await call("GET", `/v1/members/${memberId}/ledger?limit=100`), 200)).items;
}

/** The text of what a promise rejected with, its causes included (drizzle wraps D1's error). */
async function failureOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    const texts: string[] = [];
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) texts.push(e.message);
    return texts.join(" <- ");
  }
  throw new Error("expected a failure, but the statement committed");
}

async function firstRow<T>(query: string, ...params: unknown[]): Promise<T> {
  const row = await env.DB.prepare(query)
    .bind(...params)
    .first<T>();
  if (row === null) throw new Error(`no row for: ${query}`);
  return row;
}

describe("database.atomic on D1 with raw SQL", () => {
  // The set-based steps (spending lots, the refund guard, every points job) are sql`…` with
  // parameters; drizzle's own D1 batch() could not bind those, so openD1 batches on the binding.
  it("runs parameterised sql`…` statements next to query builders and reports their changes", async () => {
    const { db } = database;
    const t = Date.now();
    const id = `mem_${unique()}`;
    const changes = await database.atomic([
      sql`INSERT INTO members (id, name, email, created_at, updated_at) VALUES (${id}, ${"Raw SQL"}, ${uniqueEmail("raw")}, ${t}, ${t})`,
      db.insert(memberBalances).values({ memberId: id, available: 0, updatedAt: t }),
      sql`UPDATE member_balances SET updated_at = ${t + 1} WHERE member_id = ${id}`,
      sql`UPDATE member_balances SET updated_at = ${t + 2} WHERE member_id = ${`mem_missing_${unique()}`}`,
    ]);
    expect(changes).toEqual([1, 1, 1, 0]);
    expect(await firstRow<{ updated_at: number }>("SELECT updated_at FROM member_balances WHERE member_id = ?", id)).toEqual({ updated_at: t + 1 });
  });
});

describe("ledger immutability on D1", () => {
  /** A purchase that earned and redeemed, so it has a transaction, entries and lot movements. */
  async function givenPurchaseWithMovements() {
    const { member, partner } = await givenTill();
    await adjust(member.id, 100, "immutability fixture");
    const p = await jsonOf<PurchaseResult>(await purchase(partner, await scannedCard(member), { amountMinor: 10_000, redeemPoints: 50 }), 201);
    expect(p).toMatchObject({ pointsRedeemed: 50, pointsEarned: 99, balance: { available: 100 - 50 + 99 } });
    const txn = await firstRow<{ id: string; description: string }>("SELECT id, description FROM ledger_transactions WHERE purchase_id = ? AND kind = 'purchase'", p.purchaseId);
    const entry = await firstRow<{ id: number; points: number }>("SELECT id, points FROM ledger_entries WHERE txn_id = ? ORDER BY id LIMIT 1", txn.id);
    const movement = await firstRow<{ id: number; lot_id: string; points: number }>("SELECT id, lot_id, points FROM lot_movements WHERE txn_id = ? ORDER BY id LIMIT 1", txn.id);
    expect(movement.points).toBe(-50);
    return { member, purchase: p, txn, entry, movement };
  }

  it("refuses UPDATE and DELETE on ledger_transactions, ledger_entries and lot_movements (raw D1 statements)", async () => {
    const { txn, entry, movement } = await givenPurchaseWithMovements();
    const attempts: Array<[string, D1PreparedStatement]> = [
      ["UPDATE ledger_transactions", env.DB.prepare("UPDATE ledger_transactions SET description = 'tampered' WHERE id = ?").bind(txn.id)],
      ["DELETE ledger_transactions", env.DB.prepare("DELETE FROM ledger_transactions WHERE id = ?").bind(txn.id)],
      ["UPDATE ledger_entries", env.DB.prepare("UPDATE ledger_entries SET points = points + 1 WHERE id = ?").bind(entry.id)],
      ["DELETE ledger_entries", env.DB.prepare("DELETE FROM ledger_entries WHERE id = ?").bind(entry.id)],
      ["UPDATE lot_movements", env.DB.prepare("UPDATE lot_movements SET points = 0 WHERE id = ?").bind(movement.id)],
      ["DELETE lot_movements", env.DB.prepare("DELETE FROM lot_movements WHERE id = ?").bind(movement.id)],
    ];
    for (const [label, statement] of attempts) {
      const failure = await failureOf(statement.run());
      expect(failure, label).toContain("ledger_immutable");
    }
    // Each trigger names what it guards.
    expect(await failureOf(attempts[0]![1].run())).toContain("ledger transactions cannot be changed");
    expect(await failureOf(attempts[3]![1].run())).toContain("ledger entries cannot be deleted");
    expect(await failureOf(attempts[5]![1].run())).toContain("lot movements cannot be deleted");
    // Nothing changed.
    expect(await firstRow<{ description: string }>("SELECT description FROM ledger_transactions WHERE id = ?", txn.id)).toEqual({ description: txn.description });
    expect(await firstRow<{ points: number }>("SELECT points FROM ledger_entries WHERE id = ?", entry.id)).toEqual({ points: entry.points });
    expect(await firstRow<{ points: number }>("SELECT points FROM lot_movements WHERE id = ?", movement.id)).toEqual({ points: -50 });
  });

  it("refuses them through openD1's drizzle too, with D1's message in the error's cause", async () => {
    const { entry } = await givenPurchaseWithMovements();
    const { db } = database;
    expect(await failureOf((async () => db.update(ledgerEntries).set({ points: 1 }).where(eq(ledgerEntries.id, entry.id)).run())())).toContain("ledger_immutable");
    expect(await failureOf((async () => db.delete(ledgerEntries).where(eq(ledgerEntries.id, entry.id)).run())())).toContain("ledger_immutable");
  });

  it("a trigger failure late in database.atomic([...]) rolls back the earlier statements", async () => {
    const { member, entry } = await givenPurchaseWithMovements();
    const { db } = database;
    const t = Date.now();
    const newcomer = { id: `mem_${unique()}`, name: "Rollback Test", email: uniqueEmail("rollback"), createdAt: t, updatedAt: t };
    const before = await balanceOf(member.id);
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(newcomer),
        db.insert(memberBalances).values({ memberId: newcomer.id, available: 7, updatedAt: t }),
        db.update(memberBalances).set({ available: 0 }).where(eq(memberBalances.memberId, member.id)),
        db.delete(ledgerEntries).where(eq(ledgerEntries.id, entry.id)),
      ]),
    );
    expect(failure).toContain("ledger_immutable");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM members WHERE id = ?").bind(newcomer.id).first<{ n: number }>()).toEqual({ n: 0 });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM member_balances WHERE member_id = ?").bind(newcomer.id).first<{ n: number }>()).toEqual({ n: 0 });
    expect(await balanceOf(member.id)).toEqual(before);
    expect(await firstRow<{ points: number }>("SELECT points FROM ledger_entries WHERE id = ?", entry.id)).toEqual({ points: entry.points });
  });

  it("a trigger failure in a raw env.DB.batch rolls back the mutable point_lots write before it", async () => {
    const { movement } = await givenPurchaseWithMovements();
    const lot = await firstRow<{ remaining: number }>("SELECT remaining FROM point_lots WHERE id = ?", movement.lot_id);
    const failure = await failureOf(
      env.DB.batch([
        env.DB.prepare("UPDATE point_lots SET remaining = remaining - 1 WHERE id = ?").bind(movement.lot_id),
        env.DB.prepare("UPDATE lot_movements SET points = points + 1 WHERE id = ?").bind(movement.id),
      ]),
    );
    expect(failure).toContain("ledger_immutable");
    expect(await firstRow<{ remaining: number }>("SELECT remaining FROM point_lots WHERE id = ?", movement.lot_id)).toEqual(lot);
  });
});

describe("purchases over HTTP on D1", () => {
  it("an adjustment, then 1% of 12,345 is 123 points, available at once, expiring in 24 months", async () => {
    const { member, card, partner } = await givenTill();
    const given = await adjust(member.id, 500, "welcome bonus");
    expect(given).toMatchObject({ points: 500, balance: { available: 500, pending: 0 } });

    const body = await jsonOf<PurchaseResult>(await purchase(partner, card, { amountMinor: 12_345 }), 201);
    // Same answer as test/node/purchases.test.ts.
    expect(body).toMatchObject({ pointsEarned: 123, pointsRedeemed: 0, pointsPending: 0, payableMinor: 12_345, balance: { available: 623, pending: 0 } });
    expect(body.breakdown).toEqual([{ rule: "base_rate", rateBps: 100, amountMinor: 12_345, points: 123 }]);

    const balance = await balanceOf(member.id);
    expect(balance).toMatchObject({ available: 623, pending: 0, owed: 0 });
    expect(balance.expiring.reduce((n, e) => n + e.points, 0)).toBe(623);
    for (const e of balance.expiring) {
      const inDays = (Date.parse(e.expiresAt) - Date.now()) / DAY_MS;
      expect(inDays).toBeGreaterThan(700);
      expect(inDays).toBeLessThan(740);
    }
  });

  it("redeems for part of the amount and refuses an overdraft without moving anything", async () => {
    const { member, card, partner } = await givenTill();
    await expectStatus(await purchase(partner, card, { amountMinor: 50_000 }), 201); // 500 points
    const redeemed = await jsonOf<PurchaseResult>(await purchase(partner, await scannedCard(member), { amountMinor: 10_000, redeemPoints: 300 }), 201);
    expect(redeemed).toMatchObject({ pointsRedeemed: 300, payableMinor: 9_700, pointsEarned: 97, balance: { available: 500 - 300 + 97 } });
    expect(redeemed.breakdown.at(-1)).toEqual({ rule: "redemption", points: -300, valueMinor: 300 });

    const refused = await purchase(partner, await scannedCard(member), { amountMinor: 10_000, redeemPoints: 298 });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as Problem).code).toBe("insufficient_points");
    expect((await balanceOf(member.id)).available).toBe(297);
    // The refused purchase left no trace: two purchase transactions only.
    expect((await ledgerOf(member.id)).map((i) => i.kind)).toEqual(["purchase", "purchase"]);
  });

  it("claws back and restores pro rata on a partial refund and a void, with readable ledger lines", async () => {
    const { member, card, partner } = await givenTill();
    const bigReceipt = `big-${unique()}`;
    await expectStatus(await purchase(partner, card, { amountMinor: 100_000, receiptId: bigReceipt }), 201); // 1000 points
    const receipt = `mixed-${unique()}`;
    const p = await jsonOf<PurchaseResult>(await purchase(partner, await scannedCard(member), { amountMinor: 40_000, redeemPoints: 400, receiptId: receipt }), 201);
    expect(p).toMatchObject({ pointsEarned: 396, pointsRedeemed: 400, payableMinor: 39_600, balance: { available: 1000 - 400 + 396 } });

    const half = await jsonOf<RefundResult>(
      await call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 20_000 } }),
      201,
    );
    expect(half).toMatchObject({ purchaseId: p.purchaseId, amountMinor: 20_000, pointsClawedBack: 198, pointsRestored: 200, pointsOwed: 0, balance: { available: 996 - 198 + 200 } });
    const partial = await jsonOf<{ status: string; refundedMinor: number }>(await call("GET", `/v1/purchases/${p.purchaseId}`, { token: partner.key }), 200);
    expect(partial).toMatchObject({ status: "partially_refunded", refundedMinor: 20_000, pointsClawedBack: 198, pointsRestored: 200 });

    const rest = await jsonOf<RefundResult>(await call("POST", `/v1/purchases/${p.purchaseId}/void`, { token: partner.key }), 201);
    expect(rest).toMatchObject({ amountMinor: 20_000, pointsClawedBack: 198, pointsRestored: 200, pointsOwed: 0, balance: { available: 1000 } });

    const again = await call("POST", `/v1/purchases/${p.purchaseId}/void`, { token: partner.key });
    expect(again.status).toBe(409);
    expect(((await again.json()) as Problem).code).toBe("nothing_to_refund");
    const over = await call("POST", `/v1/purchases/${p.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 1 } });
    expect(over.status).toBe(409);

    const ledger = await ledgerOf(member.id);
    expect(ledger.map((i) => [i.kind, i.points])).toEqual([
      ["void", 2],
      ["refund", 2],
      ["purchase", -4],
      ["purchase", 1000],
    ]);
    expect(ledger.map((i) => i.description)).toEqual([
      `Voided 20000 KRW of receipt ${receipt} at ${PARTNER_NAME}`,
      `Refunded 20000 KRW of receipt ${receipt} at ${PARTNER_NAME}`,
      `Earned 396 at ${PARTNER_NAME}, spent 400 at ${PARTNER_NAME}, receipt ${receipt}`,
      `Earned 1000 at ${PARTNER_NAME}, receipt ${bigReceipt}`,
    ]);
    expect(ledger.map((i) => i.reasonCode)).toEqual(["void", "refund", "earn_and_redeem", "earn"]);
    const purchaseTxn = ledger[2]!;
    expect(ledger[0]).toMatchObject({ purchaseId: p.purchaseId, correctsTransactionId: purchaseTxn.id });
    expect(ledger[1]).toMatchObject({ purchaseId: p.purchaseId, correctsTransactionId: purchaseTxn.id });
    expect(await balanceOf(member.id)).toMatchObject({ available: 1000, pending: 0, owed: 0 });
  });

  it("turns clawed-back points already spent into a debt repaid from the next earnings", async () => {
    const { member, card, partner } = await givenTill();
    const big = await jsonOf<PurchaseResult>(await purchase(partner, card, { amountMinor: 100_000 }), 201);
    await expectStatus(await purchase(partner, await scannedCard(member), { amountMinor: 1_000, redeemPoints: 1_000 }), 201);
    const voided = await jsonOf<RefundResult>(await call("POST", `/v1/purchases/${big.purchaseId}/void`, { token: partner.key }), 201);
    expect(voided).toMatchObject({ pointsClawedBack: 1000, pointsOwed: 1000, balance: { available: 0 } });
    expect(await balanceOf(member.id)).toMatchObject({ available: 0, owed: 1000 });
    const next = await jsonOf<PurchaseResult>(await purchase(partner, card, { amountMinor: 60_000 }), 201);
    expect(next).toMatchObject({ pointsEarned: 600, balance: { available: 0 } });
    expect(next.breakdown.at(-1)).toEqual({ rule: "debt_repayment", points: -600 });
    expect(await balanceOf(member.id)).toMatchObject({ available: 0, owed: 400 });
  });

  it("refuses a second purchase for one receipt with 409 duplicate_receipt", async () => {
    const { member, card, partner } = await givenTill();
    const receiptId = `dup-${unique()}`;
    const first = await jsonOf<PurchaseResult>(await purchase(partner, card, { receiptId }), 201);
    const again = await purchase(partner, card, { receiptId, amountMinor: 99_000 });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "duplicate_receipt", purchaseId: first.purchaseId });
    // Another partner may use the same receipt id.
    const other = await givenPartner("다른 가게");
    await expectStatus(await purchase(other, card, { receiptId }), 201);
    expect((await balanceOf(member.id)).available).toBe(200);
  });

  it("Idempotency-Key: the same key and body replay the stored response; another body is a 422", async () => {
    const { member, card, partner } = await givenTill();
    const key = `idem-${unique()}`;
    const body = { receiptId: `k-${unique()}`, amountMinor: 20_000 };
    const first = await expectStatus(await purchase(partner, card, body, { "idempotency-key": key }), 201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.json();
    expect(firstBody).toMatchObject({ pointsEarned: 200, balance: { available: 200, pending: 0 } });

    // Move the balance, so a replay that recomputed anything would differ.
    await adjust(member.id, 5, "replay check");
    const replay = await expectStatus(await purchase(partner, card, body, { "idempotency-key": key }), 201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(firstBody);

    const reused = await purchase(partner, card, { ...body, receiptId: `k-${unique()}` }, { "idempotency-key": key });
    expect(reused.status).toBe(422);
    expect(((await reused.json()) as Problem).code).toBe("idempotency_key_reused");

    // One purchase, one earning.
    expect((await balanceOf(member.id)).available).toBe(205);
    expect((await ledgerOf(member.id)).map((i) => i.kind)).toEqual(["adjust", "purchase"]);
  });

  it("Idempotency-Key replays a refusal too", async () => {
    const { member, partner } = await givenTill();
    const key = `idem-${unique()}`;
    const card = await scannedCard(member);
    const body = { receiptId: `k-${unique()}`, redeemPoints: 50 };
    const refused = await purchase(partner, card, body, { "idempotency-key": key });
    expect(refused.status).toBe(422);
    const refusedBody = (await refused.json()) as Problem;
    expect(refusedBody.code).toBe("insufficient_points");
    const replay = await purchase(partner, card, body, { "idempotency-key": key });
    expect(replay.status).toBe(422);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(refusedBody);
  });
});

describe("concurrent redemptions on D1", () => {
  it("60 simultaneous 1-point redemptions against 20 points: 20 succeed, 40 are refused, nothing breaks", async () => {
    const { member, partner } = await givenTill();
    await adjust(member.id, 20, "concurrency fixture");
    // Each shows the member's QR card: spending points needs the member there.
    const scanned: Array<{ token: string }> = [];
    for (let i = 0; i < 60; i++) scanned.push(await scannedCard(member));
    const responses = await Promise.all(
      scanned.map((presented) =>
        exports.default.fetch(
          new Request("http://dangol.test/v1/purchases", {
            method: "POST",
            headers: { authorization: `Bearer ${partner.key}`, "content-type": "application/json" },
            body: JSON.stringify({ card: presented, receiptId: `c-${unique()}`, amountMinor: 1, currency: "KRW", redeemPoints: 1 }),
          }),
        ),
      ),
    );
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; pointsRedeemed?: number } })));
    const byStatus = new Map<number, number>();
    for (const { status } of bodies) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    expect(Object.fromEntries(byStatus)).toEqual({ 201: 20, 422: 40 });
    expect(bodies.filter((b) => b.status >= 500)).toEqual([]);
    expect(bodies.filter((b) => b.status === 422).every((b) => b.body.code === "insufficient_points")).toBe(true);
    expect(bodies.filter((b) => b.status === 201).every((b) => b.body.pointsRedeemed === 1)).toBe(true);

    expect(await balanceOf(member.id)).toMatchObject({ available: 0, pending: 0, owed: 0 });
    const ledger = await ledgerOf(member.id);
    expect(ledger).toHaveLength(21);
    expect(ledger.filter((i) => i.kind === "purchase").every((i) => i.points === -1 && i.description.startsWith(`Spent 1 at ${PARTNER_NAME}`))).toBe(true);
    const lot = await firstRow<{ points: number; remaining: number }>("SELECT points, remaining FROM point_lots WHERE member_id = ?", member.id);
    expect(lot).toEqual({ points: 20, remaining: 0 });
    await expectLedgerOk();
  });
});

// The races of test/node/refund-race.test.ts, every request at once into one isolate: each
// refund's reads and its batch are separate round trips to D1, so they interleave.
describe("concurrent refunds of one purchase on D1", () => {
  const send: Send = async (method, path, token, body) => {
    const res = await call(method, path, { token, body });
    return { status: res.status, body: await res.json() };
  };
  for (const race of refundRaces) {
    it(race.name, async () => {
      await runRefundRace(send, race, unique());
    });
  }
});

describe("the scheduled handler (cron) on D1", () => {
  async function runCron() {
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "*/10 * * * *" });
    const ctx = createExecutionContext();
    // The worker's Env has an index signature the generated Cloudflare.Env lacks; a spread has one.
    const workerEnv: WorkerEnv = { ...env };
    await worker.scheduled(controller, workerEnv, ctx);
    await waitOnExecutionContext(ctx);
  }

  it("expires a lot that is due, once, with an explained ledger line", async () => {
    const member = await givenMember();
    await givenCard(member.id);
    const partner = await givenPartner(PARTNER_NAME);
    const given = await adjust(member.id, 30, "expiry fixture");
    await expectStatus(await purchase(partner, await scannedCard(member), { amountMinor: 10, redeemPoints: 10 }), 201);
    expect((await balanceOf(member.id)).available).toBe(20);

    // D1's clock cannot move, so the lot is made due instead (point_lots is not immutable).
    const lot = await firstRow<{ id: string; earned_at: number }>("SELECT id, earned_at FROM point_lots WHERE txn_id = ?", given.transactionId);
    const update = await env.DB.prepare("UPDATE point_lots SET expires_at = ? WHERE id = ?").bind(Date.now() - 60_000, lot.id).run();
    expect(update.meta.changes).toBe(1);

    await runCron();

    expect(await balanceOf(member.id)).toMatchObject({ available: 0, pending: 0, owed: 0, expiring: [] });
    const ledger = await ledgerOf(member.id);
    expect(ledger.map((i) => [i.kind, i.points])).toEqual([
      ["expire", -20],
      ["purchase", -10],
      ["adjust", 30],
    ]);
    const expired = ledger[0]!;
    expect(expired.reasonCode).toBe("expired");
    expect(expired.description.startsWith("Expired — earned")).toBe(true);
    expect(expired.description).toBe(`Expired — earned ${localDate(lot.earned_at, 540)}`);
    const movements = await env.DB.prepare("SELECT lot_id, points FROM lot_movements WHERE txn_id = ?").bind(expired.id).all<{ lot_id: string; points: number }>();
    expect(movements.results).toEqual([{ lot_id: lot.id, points: -20 }]);
    const breakage = await env.DB.prepare("SELECT account, points FROM ledger_entries WHERE txn_id = ? ORDER BY points").bind(expired.id).all<{ account: string; points: number }>();
    expect(breakage.results).toEqual([
      { account: `member:${member.id}`, points: -20 },
      { account: "breakage", points: 20 },
    ]);
    await expectLedgerOk();

    // Running it again (twice) moves nothing.
    await runCron();
    await runCron();
    expect(await ledgerOf(member.id)).toEqual(ledger);
    expect((await balanceOf(member.id)).available).toBe(0);
  });

  it("leaves lots that are not due alone, and expires only the due part of a member's points", async () => {
    const member = await givenMember();
    const due = await adjust(member.id, 40, "due lot");
    await adjust(member.id, 7, "later lot");
    await env.DB.prepare("UPDATE point_lots SET expires_at = ? WHERE txn_id = ?").bind(Date.now() - 1, due.transactionId).run();
    await runCron();
    expect((await balanceOf(member.id)).available).toBe(7);
    const ledger = await ledgerOf(member.id);
    expect(ledger.map((i) => [i.kind, i.points])).toEqual([
      ["expire", -40],
      ["adjust", 7],
      ["adjust", 40],
    ]);
    await runCron();
    expect(await ledgerOf(member.id)).toHaveLength(3);
  });
});
