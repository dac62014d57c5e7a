/**
 * The customer profile: kept up to date by every purchase, refund and expiry in the same unit,
 * equal at all times to what a full scan of the history would compute; and the 360 view that
 * staff open, each read audited with its reason.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, memberToken, purchase } from "../helpers/factories.ts";

const DAY_MS = 86_400_000;
const KST_MS = 9 * 3_600_000;

interface ProfileRow {
  first_purchase_at: number | null;
  first_purchase_minor: number;
  last_purchase_at: number | null;
  purchase_count: number;
  purchase_days: number;
  monetary_minor: number;
  refund_count: number;
  points_earned: number;
  points_redeemed: number;
  points_expired: number;
}

/** The profile as a full scan of purchases, refunds and expiries would compute it. */
function fromScratch(t: TestApp, memberId: string) {
  const db = t.database.sqlite;
  // Purchases at the same instant count in the order they were recorded, as the profile keeps the first.
  const purchases = db.prepare("SELECT occurred_at, amount_minor - discount_minor AS net, earned_points, redeemed_points FROM purchases WHERE member_id = ? ORDER BY occurred_at, rowid").all(memberId) as Array<{
    occurred_at: number;
    net: number;
    earned_points: number;
    redeemed_points: number;
  }>;
  const refunds = db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(i.amount_minor), 0) AS minor FROM interactions i WHERE i.member_id = ? AND i.kind IN ('refund', 'void')`,
    )
    .get(memberId) as { n: number; minor: number };
  const reversed = db.prepare("SELECT COALESCE(SUM(clawed_points), 0) AS clawed, COALESCE(SUM(restored_points), 0) AS restored FROM purchases WHERE member_id = ?").get(memberId) as {
    clawed: number;
    restored: number;
  };
  const expired = db.prepare("SELECT COALESCE(SUM(e.points), 0) AS points FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id WHERE t.member_id = ? AND t.kind = 'expire' AND e.account = 'breakage'").get(memberId) as { points: number };
  const days = new Set(purchases.map((p) => Math.floor((p.occurred_at + KST_MS) / DAY_MS)));
  return {
    first_purchase_at: purchases[0]?.occurred_at ?? null,
    first_purchase_minor: purchases[0]?.net ?? 0,
    last_purchase_at: purchases.at(-1)?.occurred_at ?? null,
    purchase_count: purchases.length,
    purchase_days: days.size,
    // Refund interactions carry the money returned as a negative amount.
    monetary_minor: purchases.reduce((n, p) => n + p.net, 0) + refunds.minor,
    refund_count: refunds.n,
    points_earned: purchases.reduce((n, p) => n + p.earned_points, 0) - reversed.clawed,
    points_redeemed: purchases.reduce((n, p) => n + p.redeemed_points, 0) - reversed.restored,
    points_expired: expired.points,
  };
}

function profileRow(t: TestApp, memberId: string): ProfileRow {
  return t.database.sqlite
    .prepare(
      "SELECT first_purchase_at, first_purchase_minor, last_purchase_at, purchase_count, purchase_days, monetary_minor, refund_count, points_earned, points_redeemed, points_expired FROM member_profiles WHERE member_id = ?",
    )
    .get(memberId) as ProfileRow;
}

type Step = { kind: "buy"; hours: number; amountMinor: number; redeem: number } | { kind: "refund"; which: number; share: number } | { kind: "expire"; days: number };

describe("the profile, kept up to date incrementally", () => {
  it("always equals a full scan of the member's history", async () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant("buy" as const), hours: fc.integer({ min: 0, max: 60 }), amountMinor: fc.integer({ min: 0, max: 80_000 }), redeem: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), which: fc.nat(), share: fc.integer({ min: 1, max: 100 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const), days: fc.integer({ min: 200, max: 800 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 25, size: "max" }), async (steps) => {
        const t = await createTestApp();
        // Points expire after a year, so moving the clock lets the expiry job take some.
        const { program } = (await (await t.call("GET", "/v1/program")).json()) as { program: object };
        await expectStatus(await t.call("PUT", "/v1/program", { body: { ...program, expiry: { policy: "rolling_months", months: 12 } } }), 200);
        const member = await givenMember(t);
        const card = await givenCard(t, member.id);
        const partner = await givenPartner(t);
        const bought: Array<{ purchaseId: string; amountMinor: number }> = [];
        for (const s of steps) {
          if (s.kind === "buy") {
            t.clock.advance(s.hours * 3_600_000);
            const res = await purchase(t, partner, card, { amountMinor: s.amountMinor, ...(s.redeem > 0 && { redeemPoints: s.redeem }) });
            if (res.status === 201) bought.push({ purchaseId: ((await res.json()) as { purchaseId: string }).purchaseId, amountMinor: s.amountMinor });
          } else if (s.kind === "refund" && bought.length > 0) {
            const target = bought[s.which % bought.length]!;
            const amountMinor = Math.max(1, Math.floor((target.amountMinor * s.share) / 100));
            await t.call("POST", `/v1/purchases/${target.purchaseId}/refunds`, { token: partner.key, body: { amountMinor } });
          } else if (s.kind === "expire") {
            t.clock.advance(s.days * DAY_MS);
            await expectStatus(await t.call("POST", "/v1/jobs/points"), 200);
          }
        }
        // The profile exists from the enrolment (an interaction), even if no purchase went through.
        expect(profileRow(t, member.id)).toEqual(fromScratch(t, member.id));
        await expectLedgerBalanced(t);
      }),
      { numRuns: 25 },
    );
  });
});

describe("the customer 360 view", () => {
  it("shows the profile, favourites, interactions and offers, and audits each staff read with its reason", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const cinema = await givenPartner(t);
    const cafe = await givenPartner(t, "달빛카페");
    const ticket = { sku: "ticket", category: "ticket", amountMinor: 28_000, quantity: 2 };
    await expectStatus(await purchase(t, cinema, card, { amountMinor: 28_000, items: [ticket] }), 201);
    t.clock.advance(DAY_MS);
    await expectStatus(await purchase(t, cafe, card, { amountMinor: 5_000 }), 201);
    await expectStatus(await t.call("POST", "/v1/segments", { body: { name: "Buyers", rule: { all: [{ attr: "purchaseCount", op: "gte", value: 1 }] } } }), 201);
    const res = await t.call("GET", `/v1/members/${member.id}/profile?reason=support_call`);
    const view = (await (await expectStatus(res, 200)).json()) as {
      member: { email: string };
      card: { number: string };
      profile: { purchaseCount: number; purchaseDays: number; monetaryMinor: number; averageBasketMinor: number; favouritePartners: Array<{ partnerId: string }>; favouriteCategories: Array<{ category: string }> };
      recentInteractions: Array<{ kind: string; partnerId: string }>;
      scores: unknown;
      segments: Array<{ name: string }>;
    };
    expect(view.member.email).toBe(member.email);
    expect(view.card.number).toBe(card.number);
    expect(view.profile).toMatchObject({ purchaseCount: 2, purchaseDays: 2, monetaryMinor: 33_000, averageBasketMinor: 16_500 });
    expect(view.profile.favouritePartners.map((f) => f.partnerId)).toEqual([cinema.id, cafe.id]);
    expect(view.profile.favouriteCategories.map((f) => f.category)).toEqual(["ticket", "cinema"]);
    expect(view.recentInteractions.map((i) => [i.kind, i.partnerId])).toEqual([
      ["segment_enter", null],
      ["purchase", cafe.id],
      ["purchase", cinema.id],
      ["enrolment", null],
    ]);
    expect(view.scores).toBeNull();
    expect(view.segments.map((s) => s.name)).toEqual(["Buyers"]);

    const audit = t.database.sqlite.prepare("SELECT actor_type, action, reason FROM audit_log WHERE target_id = ? AND action = 'profile.read'").all(member.id);
    expect(audit).toEqual([{ actor_type: "admin", action: "profile.read", reason: "support_call" }]);
    // Staff must say why; the member reads their own without a reason, and it is not a staff read.
    expect((await t.call("GET", `/v1/members/${member.id}/profile`)).status).toBe(400);
    const token = await memberToken(t, member);
    await expectStatus(await t.call("GET", `/v1/members/${member.id}/profile`, { token }), 200);
    expect(t.database.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ? AND action = 'profile.read'").get(member.id)).toEqual({ n: 1 });
    // A partner never sees it: it holds contact details.
    expect((await t.call("GET", `/v1/members/${member.id}/profile?reason=store_visit`, { token: cinema.key })).status).toBe(403);
  });
});
