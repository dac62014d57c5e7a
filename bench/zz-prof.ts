import { createTestApp } from "../test/helpers/app.ts";
import { givenCard, givenMember, givenPartner } from "../test/helpers/factories.ts";
const t = await createTestApp({ LOG_LEVEL: "silent" });
const cards = [];
const partner = await givenPartner(t);
for (let i = 0; i < 50; i++) { const m = await givenMember(t); cards.push(await givenCard(t, m.id)); await t.call("POST", `/v1/members/${m.id}/adjustments`, { body: { points: 100000, reason: "bench" } }); }
const phases: Record<string, number> = {};
let n = 0;
const t0 = performance.now();
for (let i = 0; i < 2000; i++) {
  n++;
  const res = await t.call("POST", "/v1/purchases", { token: partner.key, headers: { "idempotency-key": `k${n}` }, body: { card: { number: cards[n % 50]!.number }, receiptId: `p${n}`, amountMinor: 12000, currency: "KRW", ...(n % 3 === 0 ? { redeemPoints: 100 } : {}) } });
  if (res.status !== 201) throw new Error(await res.text());
}
console.log("per purchase ms (in-memory db, in-process)", ((performance.now() - t0) / 2000).toFixed(3));
