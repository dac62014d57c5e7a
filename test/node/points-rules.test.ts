/**
 * The program's rules through the API and the jobs: pending days, expiry and its notice, caps
 * across purchases, versioned rules, tiers with their history.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultProgram, type Program } from "../../src/domain/program.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, purchase, scannedCard } from "../helpers/factories.ts";

const DAY = 86_400_000;
let t: TestApp;

async function setup(rules: Partial<Omit<Program, "earning">> & { earning?: Partial<Program["earning"]> } = {}) {
  t = await createTestApp();
  const program: Program = { ...defaultProgram, ...rules, earning: { ...defaultProgram.earning, ...rules.earning } };
  await expectStatus(await t.call("PUT", "/v1/program", { body: program }), 200);
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  return { member, card, partner };
}

const get = async <T>(path: string) => (await (await expectStatus(await t.call("GET", path), 200)).json()) as T;
const runJobs = async () => (await (await expectStatus(await t.call("POST", "/v1/jobs/points"), 200)).json()) as Record<string, number>;

afterEach(async () => {
  if (t) await expectLedgerBalanced(t);
});

describe("pending days", () => {
  it("hold earned points as pending until the job releases them", async () => {
    const { member, card, partner } = await setup({ earning: { pendingDays: 7 } });
    const res = await expectStatus(await purchase(t, partner, card, { amountMinor: 50_000 }), 201);
    expect(await res.json()).toMatchObject({ pointsEarned: 500, pointsPending: 500, balance: { available: 0, pending: 500 } });
    // Pending points cannot be spent.
    expect((await purchase(t, partner, await scannedCard(t, card), { redeemPoints: 1 })).status).toBe(422);
    t.clock.advance(6 * DAY);
    await runJobs();
    expect(await get(`/v1/members/${member.id}/balance`)).toMatchObject({ available: 0, pending: 500 });
    t.clock.advance(DAY);
    expect(await runJobs()).toMatchObject({ released: 1 });
    expect(await get(`/v1/members/${member.id}/balance`)).toMatchObject({ available: 500, pending: 0 });
    expect(await runJobs()).toMatchObject({ released: 0 });
    const ledger = await get<{ items: Array<{ kind: string; points: number; pendingPoints: number; description: string }> }>(`/v1/members/${member.id}/ledger`);
    expect(ledger.items[0]).toMatchObject({ kind: "release", points: 500, pendingPoints: -500, description: "Pending points became available" });
  });
});

describe("expiry", () => {
  it("warns the member before points expire, then expires them into breakage, once", async () => {
    const { member, card, partner } = await setup({ expiry: { policy: "rolling_months", months: 1 }, expiryNoticeDays: 7 });
    await expectStatus(await purchase(t, partner, card, { amountMinor: 30_000 }), 201);
    t.clock.advance(20 * DAY);
    expect(await runJobs()).toMatchObject({ notices: 0, expired: 0 });
    t.clock.advance(5 * DAY);
    expect(await runJobs()).toMatchObject({ notices: 1, expired: 0 });
    expect(await runJobs()).toMatchObject({ notices: 0 });
    const outbox = await get<{ items: Array<{ kind: string; body: string; memberId: string; status: string }> }>(`/v1/outbox?limit=100`);
    const notices = outbox.items.filter((m) => m.kind === "points_expiry_notice");
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ memberId: member.id, status: "sent", body: "300 points expire from 2026-04-02. Use them at any partner before then." });
    t.clock.advance(10 * DAY);
    expect(await runJobs()).toMatchObject({ expired: 1 });
    expect(await get(`/v1/members/${member.id}/balance`)).toMatchObject({ available: 0, expiring: [] });
    const ledger = await get<{ items: Array<{ kind: string; points: number; description: string }> }>(`/v1/members/${member.id}/ledger`);
    expect(ledger.items[0]).toMatchObject({ kind: "expire", points: -300, description: "Expired — earned 2026-03-02" });
    expect(await runJobs()).toMatchObject({ expired: 0 });
  });

  it("spends the points that expire first before later ones", async () => {
    const { member, card, partner } = await setup({ expiry: { policy: "end_of_year", years: 1 } });
    await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201); // expires end of 2027
    t.clock.advance(320 * DAY); // 2027-01-16
    await expectStatus(await purchase(t, partner, card, { amountMinor: 20_000 }), 201); // expires end of 2028
    // 150 points: all 100 that expire at the end of 2027 first, then 50 of the 200 expiring in 2028.
    await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 10_000, redeemPoints: 150 }), 201); // earns 98
    const balance = await get<{ available: number; expiring: Array<{ points: number; expiresAt: string }> }>(`/v1/members/${member.id}/balance`);
    expect(balance.expiring).toEqual([{ points: 150 + 98, expiresAt: "2028-12-31T15:00:00.000Z" }]);
    expect(balance.available).toBe(248);
  });
});

describe("caps", () => {
  it("limit points per day across purchases, and a new day starts afresh (Korean time)", async () => {
    const { card, partner } = await setup({ earning: { caps: { perDay: 250 } } });
    const first = await expectStatus(await purchase(t, partner, card, { amountMinor: 20_000 }), 201);
    expect(await first.json()).toMatchObject({ pointsEarned: 200 });
    const second = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 20_000 }), 201)).json()) as { pointsEarned: number; breakdown: unknown[] };
    expect(second.pointsEarned).toBe(50);
    expect(second.breakdown).toContainEqual({ rule: "cap_per_day", cap: 250, points: -150 });
    t.clock.advance(15 * 3_600_000); // 00:00 in Seoul
    expect(await (await expectStatus(await purchase(t, partner, card, { amountMinor: 20_000 }), 201)).json()).toMatchObject({ pointsEarned: 200 });
  });
});

describe("caps under concurrency", () => {
  it("hold exactly when many purchases of one member land at once", async () => {
    const { member, card, partner } = await setup({ earning: { caps: { perDay: 250 } } });
    const results = await Promise.all(Array.from({ length: 12 }, () => purchase(t, partner, card, { amountMinor: 10_000 })));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    const earned = await Promise.all(results.map(async (r) => ((await r.json()) as { pointsEarned: number }).pointsEarned));
    expect(earned.reduce((a, b) => a + b, 0)).toBe(250);
    expect(await get(`/v1/members/${member.id}/balance`)).toMatchObject({ available: 250 });
  });
});

describe("versioned rules", () => {
  it("keep what an old purchase earned when the rules change before its refund", async () => {
    const { card, partner } = await setup();
    const old = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201)).json()) as { purchaseId: string };
    const program = await get<{ version: number; program: Program }>("/v1/program");
    const next = await expectStatus(await t.call("PUT", "/v1/program", { body: { ...program.program, earning: { ...program.program.earning, baseRateBps: 500 } } }), 200);
    expect(((await next.json()) as { version: number }).version).toBe(program.version + 1);
    expect(await (await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201)).json()).toMatchObject({ pointsEarned: 500 });
    const refund = await expectStatus(await t.call("POST", `/v1/purchases/${old.purchaseId}/void`, { token: partner.key }), 201);
    expect(await refund.json()).toMatchObject({ pointsClawedBack: 100 });
    expect(await get(`/v1/purchases/${old.purchaseId}`)).toMatchObject({ programVersion: program.version, status: "refunded" });
  });

  it("refuse to change a running program's currency", async () => {
    await setup();
    const program = await get<{ program: Program }>("/v1/program");
    const res = await t.call("PUT", "/v1/program", { body: { ...program.program, currency: "USD" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: [{ field: "currency" }] });
  });
});

describe("tiers", () => {
  it("upgrade at once, multiply earning, and downgrade only at requalification", async () => {
    const { member, card, partner } = await setup();
    await expectStatus(await purchase(t, partner, card, { amountMinor: 600_000 }), 201); // 6,000 points: silver
    expect(await get(`/v1/members/${member.id}/tier`)).toMatchObject({
      tier: "silver",
      qualifyingPoints: 6_000,
      requalifyAt: "2027-03-02T09:00:00.000Z",
      history: [{ from: "basic", to: "silver", reason: "upgrade", qualifyingPoints: 6_000 }],
    });
    // Silver earns 120%.
    const next = (await (await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201)).json()) as { pointsEarned: number; breakdown: unknown[] };
    expect(next.pointsEarned).toBe(120);
    expect(next.breakdown).toContainEqual({ rule: "tier_multiplier", tier: "silver", multiplierPct: 120, points: 20 });
    // Months without purchases: still silver until the term ends.
    t.clock.advance(300 * DAY);
    await runJobs();
    expect(await get(`/v1/members/${member.id}/tier`)).toMatchObject({ tier: "silver" });
    t.clock.advance(70 * DAY);
    expect(await runJobs()).toMatchObject({ tierChanges: 1 });
    expect(await get(`/v1/members/${member.id}/tier`)).toMatchObject({
      tier: "basic",
      requalifyAt: null,
      history: [{ from: "silver", to: "basic", reason: "downgrade", qualifyingPoints: 0 }, { to: "silver" }],
    });
  });
});
