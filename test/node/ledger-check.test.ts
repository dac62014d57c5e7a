/**
 * The reconciliation check must see each kind of corruption: a checker that always answers "ok"
 * would make every test that relies on it worthless. Each case damages a healthy ledger behind the
 * app's back (dropping the immutability triggers where needed) and expects exactly its invariant.
 */
import { describe, expect, it } from "vitest";
import { checkLedger } from "../../src/services/points/ledger-check.ts";
import { createTestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, purchase, scannedCard } from "../helpers/factories.ts";

async function healthyLedger() {
  const t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  await expectStatus(await purchase(t, partner, card, { amountMinor: 50_000 }), 201);
  const sale = (await (await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 20_000, redeemPoints: 100 }), 201)).json()) as { purchaseId: string };
  await expectStatus(await t.call("POST", `/v1/purchases/${sale.purchaseId}/refunds`, { token: partner.key, body: { amountMinor: 10_000 } }), 201);
  expect(await checkLedger(t.deps)).toEqual([]);
  return { t, memberId: member.id, purchaseId: sale.purchaseId };
}

const unguarded = `DROP TRIGGER IF EXISTS ledger_entries_no_update; DROP TRIGGER IF EXISTS ledger_entries_no_delete;
                   DROP TRIGGER IF EXISTS lot_movements_no_update; DROP TRIGGER IF EXISTS lot_movements_no_delete;
                   DROP TRIGGER IF EXISTS ledger_transactions_no_update; DROP TRIGGER IF EXISTS ledger_transactions_no_delete;`;

describe("the ledger check", () => {
  it.each<[string, (ids: { memberId: string; purchaseId: string }) => string]>([
    ["each ledger transaction sums to zero", ({ memberId }) => `INSERT INTO ledger_entries (txn_id, account, points) SELECT id, 'member:${memberId}', 7 FROM ledger_transactions LIMIT 1`],
    [
      "a transaction that moves points has at least two entries",
      ({ memberId }) => `DELETE FROM ledger_entries WHERE txn_id = (SELECT id FROM ledger_transactions WHERE member_id = '${memberId}' ORDER BY id LIMIT 1)
                           AND account <> 'member:${memberId}'`,
    ],
    ["each balance equals the sum of its entries", ({ memberId }) => `UPDATE member_balances SET debt = debt + 5 WHERE member_id = '${memberId}'`],
    ["no balance below zero", ({ memberId }) => `PRAGMA ignore_check_constraints = ON; UPDATE member_balances SET pending = -1 WHERE member_id = '${memberId}'`],
    ["every purchase has exactly one purchase transaction", ({ purchaseId }) => `DELETE FROM ledger_transactions WHERE purchase_id = '${purchaseId}' AND kind = 'purchase'`],
    [
      "each transaction is reversed at most once",
      () => `DROP INDEX IF EXISTS ledger_transactions_reverses_txn_id_unique;
             INSERT INTO ledger_transactions (id, member_id, kind, reason_code, description, reverses_txn_id, actor_type, actor_id, occurred_at, created_at)
             SELECT id || 'a', member_id, 'adjust', 'x', 'x', 'txn_same', 'admin', 'a', 0, 0 FROM ledger_transactions LIMIT 2`,
    ],
    ["each lot's remaining points are its points plus its movements", () => `UPDATE point_lots SET points = points + 1 WHERE rowid = (SELECT MIN(rowid) FROM point_lots)`],
    ["available and pending points equal the member's lots", () => `UPDATE point_lots SET remaining = remaining - 1, points = points - 1 WHERE rowid = (SELECT MIN(rowid) FROM point_lots)`],
    ["a purchase's claw-backs and restorations match its refund transactions", ({ purchaseId }) => `UPDATE purchases SET restored_points = restored_points + 1 WHERE id = '${purchaseId}'`],
  ])("notices when %s no longer holds", async (invariant, corrupt) => {
    const { t, ...ids } = await healthyLedger();
    t.database.sqlite.pragma("foreign_keys = OFF");
    t.database.sqlite.exec(`${unguarded} ${corrupt(ids)}`);
    const broken = new Set((await checkLedger(t.deps)).map((v) => v.invariant));
    expect(broken).toContain(invariant);
  });
});
