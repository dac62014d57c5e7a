/**
 * Refunds of one purchase racing each other in one process (issue 11, finding 4): every request at
 * once through app.request, on an in-memory database and on a file written through the writer
 * thread as the server runs it. The same races run across processes (ledger-processes.test.ts)
 * and on D1 (test/workers/ledger.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LostRace } from "../../src/store/ledger.ts";
import { planRestore } from "../../src/store/lots.ts";
import { createServerTestApp, createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus } from "../helpers/factories.ts";
import { givenRacedPurchase, refundRaces, runRefundRace, type Send } from "../support/refund-race.ts";

const sendThrough =
  (t: TestApp): Send =>
  async (method, path, token, body) => {
    const res = await t.call(method, path, { token, body });
    return { status: res.status, body: await res.json() };
  };

describe.each([
  { where: "in memory", open: async () => Object.assign(await createTestApp(), { close: async () => {} }) },
  { where: "through the writer thread", open: createServerTestApp },
])("refunds racing on one purchase, $where", ({ open }) => {
  let t: TestApp & { close(): Promise<void> };
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t.close();
  });

  for (const [i, race] of refundRaces.entries()) {
    it(race.name, async () => {
      await runRefundRace(sendThrough(t), race, `in-process-${i}`);
    });
  }
});

describe("a refund planned from a purchase row another refund has overtaken", () => {
  it("has lost a race, to be planned again, rather than failing", async () => {
    const t = await createTestApp();
    const race = await givenRacedPurchase(sendThrough(t), "overtaken");
    const { id: txnId } = t.database.sqlite.prepare("SELECT id FROM ledger_transactions WHERE purchase_id = ? AND kind = 'purchase'").get(race.purchaseId) as { id: string };
    const refund = async (amountMinor: number) =>
      expectStatus(await t.call("POST", `/v1/purchases/${race.purchaseId}/refunds`, { token: race.partnerKey, body: { amountMinor } }), 201);
    await refund(8_000);
    // A refund of the last 2,000 read the purchase here (1,600 points restored, 400 to go) …
    const read = { id: race.purchaseId, txnId, restoredPoints: 1_600 };
    // … and another refund commits before it reads the lots: only 200 are left to restore.
    await refund(1_000);
    await expect(planRestore(t.deps, read, 400)).rejects.toBeInstanceOf(LostRace);
    // Planned again from the purchase as it is now, it fits.
    await expect(planRestore(t.deps, { ...read, restoredPoints: 1_800 }, 200)).resolves.toEqual([{ lotId: expect.any(String), points: 200 }]);
  });
});
