/**
 * The recompute job on the demo coalition: every member scored, the models fitted on the
 * members' histories and each score what the domain maths gives for that member; the analytics
 * marketers read; and a second run over the same data changes nothing.
 */
import { describe, expect, it } from "vitest";
import { conditionalExpectedPurchases, customerLifetimeValue, fitBgNbd, probabilityAlive, type BgNbdCustomer } from "../../src/domain/clv/index.ts";
import { FIT_TOLERANCES } from "../../src/domain/scoring.ts";
import { recompute } from "../../src/services/analytics/recompute.ts";
import { seedDemo } from "../../src/cli/seed/seed-demo.ts";
import { createTestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, purchase } from "../helpers/factories.ts";

const DAY_MS = 86_400_000;

describe("recompute", () => {
  it("scores every member, fits the models on their histories, and is the same when run again", async () => {
    const t = await createTestApp();
    await seedDemo(t.deps);
    // Ten quiet weeks after the demo's three busy months: who is still alive becomes a question.
    t.clock.advance(70 * DAY_MS);
    const summary = await recompute(t.deps);
    const db = t.database.sqlite;
    const members = (db.prepare("SELECT COUNT(*) AS n FROM members").get() as { n: number }).n;
    const buyers = (db.prepare("SELECT COUNT(*) AS n FROM member_profiles WHERE purchase_count > 0").get() as { n: number }).n;
    expect(summary).toMatchObject({ members, buyers });
    expect(Object.values(summary.lifecycle).reduce((a, b) => a + b, 0)).toBe(members);
    expect(db.prepare("SELECT COUNT(*) AS n FROM member_scores").get()).toEqual({ n: members });
    expect(db.prepare("SELECT COUNT(*) AS n FROM member_scores WHERE r IS NOT NULL").get()).toEqual({ n: buyers });

    // The fit is the domain's on the members' (x, t_x, T), and each member's scores follow from it.
    const profiles = db.prepare("SELECT member_id, first_purchase_at, first_purchase_minor, last_purchase_at, purchase_days, monetary_minor FROM member_profiles WHERE purchase_count > 0").all() as Array<{
      member_id: string;
      first_purchase_at: number;
      first_purchase_minor: number;
      monetary_minor: number;
      last_purchase_at: number;
      purchase_days: number;
    }>;
    const now = t.clock.now;
    // Local days in Korea, as the profile counts purchase days.
    const day = (ms: number) => Math.floor((ms + 9 * 3_600_000) / DAY_MS);
    const history = (p: (typeof profiles)[number]): BgNbdCustomer => {
      const x = p.purchase_days - 1;
      return { x, tx: x === 0 ? 0 : (day(p.last_purchase_at) - day(p.first_purchase_at)) / 7, T: (day(now) - day(p.first_purchase_at)) / 7 };
    };
    const fit = fitBgNbd(profiles.map(history), { minimize: FIT_TOLERANCES });
    // The same fit, to within the optimiser's tolerance (1e-6 on the parameters' logarithms).
    for (const k of ["r", "alpha", "a", "b"] as const) expect(Math.abs(summary.bgNbd![k] / fit[k] - 1)).toBeLessThan(1e-5);
    const model = summary.bgNbd!;
    const yearOfMonths = { periods: 12, periodLength: 365.25 / 12 / 7, discountRatePerPeriod: 0.01 };
    // Repeat buyers (P(alive) < 1) and one-time buyers alike.
    const sampled = [...profiles.filter((p) => p.purchase_days > 1).slice(0, 20), ...profiles.filter((p) => p.purchase_days === 1).slice(0, 5)];
    expect(sampled).toHaveLength(25);
    for (const p of sampled) {
      const scores = db.prepare("SELECT p_alive, expected_purchases, clv_minor FROM member_scores WHERE member_id = ?").get(p.member_id) as { p_alive: number; expected_purchases: number; clv_minor: number };
      const h = history(p);
      expect(scores.p_alive).toBeCloseTo(probabilityAlive(model, h), 12);
      expect(scores.expected_purchases).toBeCloseTo(conditionalExpectedPurchases(model, h, yearOfMonths.periods * yearOfMonths.periodLength), 9);
      // 12 months at 1% a month, on the mean spend of the repeat purchases.
      const mx = h.x > 0 ? Math.max(0, (p.monetary_minor - p.first_purchase_minor) / h.x) : 0;
      expect(Math.abs(scores.clv_minor - customerLifetimeValue(model, summary.gammaGamma!, { ...h, mx }, yearOfMonths).clv)).toBeLessThanOrEqual(0.5 + 1e-6);
    }

    // Run again on the same data: the fit starts from the last one and settles where it was, so
    // every score is the same (the model's values to within the fit's tolerance).
    type Row = { member_id: string; r: number | null; rfm_segment: string | null; lifecycle: string; p_alive: number | null; clv_minor: number | null };
    const read = () => db.prepare("SELECT member_id, r, rfm_segment, lifecycle, p_alive, clv_minor FROM member_scores ORDER BY member_id").all() as Row[];
    const before = read();
    await recompute(t.deps);
    const after = read();
    expect(after.map(({ p_alive, clv_minor, ...rest }) => rest)).toEqual(before.map(({ p_alive, clv_minor, ...rest }) => rest));
    after.forEach((row, i) => {
      expect(row.p_alive ?? 0).toBeCloseTo(before[i]!.p_alive ?? 0, 5);
      expect(Math.abs((row.clv_minor ?? 0) - (before[i]!.clv_minor ?? 0))).toBeLessThanOrEqual(Math.max(2, Math.abs(before[i]!.clv_minor ?? 0) * 1e-4));
    });
  });

  it("feeds the analytics marketers read: RFM segments, the Pareto view and the model", async () => {
    const t = await createTestApp();
    await seedDemo(t.deps);
    await expectStatus(await t.call("POST", "/v1/jobs/recompute"), 200);
    const rfm = (await (await expectStatus(await t.call("GET", "/v1/analytics/rfm"), 200)).json()) as { scoredMembers: number; segments: Array<{ members: number }>; scores: { r: number[] } };
    expect(rfm.segments).toHaveLength(11);
    expect(rfm.segments.reduce((n, s) => n + s.members, 0)).toBe(rfm.scoredMembers);
    expect(rfm.scores.r.reduce((a, b) => a + b, 0)).toBe(rfm.scoredMembers);

    const pareto = (await (await expectStatus(await t.call("GET", "/v1/analytics/pareto"), 200)).json()) as {
      customers: number;
      top: Array<{ customerShare: number; revenueShare: number }>;
      gini: number;
      lorenz: Array<{ customerShare: number; revenueShare: number }>;
    };
    expect(pareto.customers).toBe(rfm.scoredMembers);
    // The demo's few heavy buyers: the top 20% bring well over 20% of revenue.
    expect(pareto.top.find((s) => s.customerShare === 0.2)!.revenueShare).toBeGreaterThan(0.35);
    expect(pareto.gini).toBeGreaterThan(0.2);
    expect(pareto.lorenz[0]).toEqual({ customerShare: 0, revenueShare: 0 });
    expect(pareto.lorenz.at(-1)).toEqual({ customerShare: 1, revenueShare: 1 });

    const clv = (await (await expectStatus(await t.call("GET", "/v1/analytics/clv"), 200)).json()) as { model: { bgNbd: { r: number } }; totalClvMinor: number; lifecycle: unknown[] };
    expect(clv.model.bgNbd.r).toBeGreaterThan(0);
    expect(clv.totalClvMinor).toBeGreaterThan(0);
    expect(clv.lifecycle.length).toBeGreaterThan(1);
  });
});

describe("a royal tier for the top spenders", () => {
  it("upgrades the top N% by spend at once, and keeps them there at requalification while they stay on top", async () => {
    const t = await createTestApp();
    const { program } = (await (await t.call("GET", "/v1/program")).json()) as { program: { tiers: Array<Record<string, unknown>> } };
    // VIP by points stays out of reach; the top 20% of buyers by spend hold it instead.
    const tiers = program.tiers.map((tier) => (tier.code === "vip" ? { ...tier, qualifyingPoints: 10_000_000, topSpendPercent: 20 } : tier));
    await expectStatus(await t.call("PUT", "/v1/program", { body: { ...program, tiers } }), 200);
    const partner = await givenPartner(t);
    const buyers: Array<{ id: string; card: { number: string } }> = [];
    for (let i = 0; i < 10; i++) {
      const member = await givenMember(t);
      const card = await givenCard(t, member.id);
      await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 * (i + 1) }), 201);
      buyers.push({ id: member.id, card });
    }
    const summary = await recompute(t.deps);
    expect(summary.royalUpgrades).toBe(2);
    const tierOf = (id: string) => (t.database.sqlite.prepare("SELECT tier FROM members WHERE id = ?").get(id) as { tier: string }).tier;
    expect(buyers.map((m) => tierOf(m.id))).toEqual([...Array(8).fill("basic"), "vip", "vip"]);
    const history = t.database.sqlite.prepare("SELECT from_tier, to_tier, reason FROM tier_history WHERE member_id = ?").all(buyers[9]!.id);
    expect(history).toEqual([{ from_tier: "basic", to_tier: "vip", reason: "upgrade" }]);

    // A year on, the smallest buyer spends the most: the top two are now it and the biggest one.
    t.clock.advance(366 * 86_400_000);
    await expectStatus(await purchase(t, partner, buyers[0]!.card, { amountMinor: 1_000_000 }), 201);
    await recompute(t.deps);
    expect(tierOf(buyers[0]!.id)).toBe("vip");
    // Requalification: the one still on top keeps VIP without the points; the one that fell out goes down.
    await expectStatus(await t.call("POST", "/v1/jobs/points"), 200);
    expect(tierOf(buyers[9]!.id)).toBe("vip");
    expect(tierOf(buyers[8]!.id)).toBe("basic");
  });
});
