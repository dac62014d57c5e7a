/**
 * The customer profile: kept up to date by every purchase, refund and expiry in the same unit,
 * equal at all times to what a full scan of the history would compute; and the 360 view that
 * staff open, each read audited with its reason.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { spendByCategory, type CategoryLine } from "../../src/domain/refund.ts";
import { importMembers } from "../../src/services/imports/members.ts";
import { importTransactions } from "../../src/services/imports/transactions.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectFavouritesNetOfRefunds } from "../support/net-favourites.ts";
import type { Send } from "../support/refund-race.ts";
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

interface AffinityRow {
  subject: string;
  purchases: number;
  amount_minor: number;
}

function affinityRows(t: TestApp, memberId: string, kind: "partner" | "category"): AffinityRow[] {
  return t.database.sqlite
    .prepare("SELECT subject, purchases, amount_minor FROM member_affinities WHERE member_id = ? AND subject LIKE ? ORDER BY subject")
    .all(memberId, `${kind}:%`) as AffinityRow[];
}

/** Spend per partner as a full scan of the purchases computes it: after offers, net of refunds. */
function partnerAffinitiesFromScratch(t: TestApp, memberId: string): AffinityRow[] {
  return t.database.sqlite
    .prepare(
      `SELECT 'partner:' || partner_id AS subject, COUNT(*) AS purchases, SUM(amount_minor - discount_minor - refunded_minor + refunded_discount_minor) AS amount_minor
       FROM purchases WHERE member_id = ? GROUP BY partner_id ORDER BY subject`,
    )
    .all(memberId) as AffinityRow[];
}

/** Spend per category as a full scan computes it: each purchase's split of what is left of it. */
function categoryAffinitiesFromScratch(t: TestApp, memberId: string): AffinityRow[] {
  const db = t.database.sqlite;
  const purchases = db
    .prepare("SELECT id, amount_minor - discount_minor - refunded_minor + refunded_discount_minor AS left_minor, amount_minor, items, category FROM purchases WHERE member_id = ?")
    .all(memberId) as Array<{ id: string; left_minor: number; amount_minor: number; items: string | null; category: string }>;
  const units = db.prepare("SELECT sku, SUM(quantity) AS quantity FROM purchase_refund_items WHERE purchase_id = ? GROUP BY sku");
  const rows = new Map<string, AffinityRow>();
  for (const p of purchases) {
    const lines: CategoryLine[] = p.items ? JSON.parse(p.items) : [{ category: p.category, amountMinor: p.amount_minor }];
    const refunded = new Map((units.all(p.id) as Array<{ sku: string; quantity: number }>).map((u) => [u.sku, u.quantity]));
    for (const [category, minor] of spendByCategory(p.left_minor, lines, refunded)) {
      const row = rows.get(category) ?? { subject: `category:${category}`, purchases: 0, amount_minor: 0 };
      rows.set(category, { ...row, purchases: row.purchases + 1, amount_minor: row.amount_minor + minor });
    }
  }
  return [...rows.values()].sort((a, b) => a.subject.localeCompare(b.subject));
}

type Step =
  | { kind: "buy"; hours: number; backHours: number; amountMinor: number; redeem: number; items: boolean }
  | { kind: "refund"; which: number; share: number; how: "amount" | "items" | "void" }
  | { kind: "expire"; days: number };

describe("the profile, kept up to date incrementally", () => {
  it("always equals a full scan of the member's history", async () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant("buy" as const),
          // Often a few hours apart, so several purchases share a day.
          hours: fc.oneof({ weight: 2, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 60 }) }),
          // Some dated back (an offline till catching up), up to the 30 days the API accepts.
          backHours: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 * 24 - 1 }) }),
          amountMinor: fc.integer({ min: 0, max: 80_000 }),
          redeem: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) }),
          items: fc.boolean(),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), which: fc.nat(), share: fc.integer({ min: 1, max: 100 }), how: fc.constantFrom("amount" as const, "items" as const, "void" as const) }) },
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
            const ticketsMinor = Math.floor((s.amountMinor * 3) / 4);
            const res = await purchase(t, partner, card, {
              amountMinor: s.amountMinor,
              ...(s.redeem > 0 && { redeemPoints: s.redeem }),
              ...(s.backHours > 0 && { occurredAt: new Date(t.clock.now - s.backHours * 3_600_000).toISOString() }),
              ...(s.items && {
                items: [
                  { sku: "ticket", category: "ticket", amountMinor: ticketsMinor, quantity: 2 },
                  { sku: "popcorn", category: "snack", amountMinor: s.amountMinor - ticketsMinor, quantity: 1 },
                ],
              }),
            });
            if (res.status === 201) bought.push({ purchaseId: ((await res.json()) as { purchaseId: string }).purchaseId, amountMinor: s.amountMinor });
          } else if (s.kind === "refund" && bought.length > 0) {
            const target = bought[s.which % bought.length]!;
            const amountMinor = Math.max(1, Math.floor((target.amountMinor * s.share) / 100));
            // Refusals (nothing left, no items on the purchase) are part of the history too.
            if (s.how === "void") await t.call("POST", `/v1/purchases/${target.purchaseId}/void`, { token: partner.key });
            else await t.call("POST", `/v1/purchases/${target.purchaseId}/refunds`, { token: partner.key, body: s.how === "items" ? { items: [{ sku: "ticket", quantity: 1 }] } : { amountMinor } });
          } else if (s.kind === "expire") {
            t.clock.advance(s.days * DAY_MS);
            await expectStatus(await t.call("POST", "/v1/jobs/points"), 200);
          }
        }
        // The profile exists from the enrolment (an interaction), even if no purchase went through.
        expect(profileRow(t, member.id)).toEqual(fromScratch(t, member.id));
        expect(affinityRows(t, member.id, "partner")).toEqual(partnerAffinitiesFromScratch(t, member.id));
        expect(affinityRows(t, member.id, "category")).toEqual(categoryAffinitiesFromScratch(t, member.id));
        // The favourites add up to the money spent, as monetaryMinor counts it.
        const monetary = profileRow(t, member.id).monetary_minor;
        for (const kind of ["partner", "category"] as const) expect(affinityRows(t, member.id, kind).reduce((n, r) => n + r.amount_minor, 0)).toBe(monetary);
        await expectLedgerBalanced(t);
      }),
      { numRuns: 50 },
    );
  });
});

describe("purchase days and favourites", () => {
  interface ProfileView {
    profile: {
      purchaseCount: number;
      purchaseDays: number;
      monetaryMinor: number;
      favouritePartners: Array<{ partnerId: string; purchases: number; amountMinor: number }>;
      favouriteCategories: Array<{ category: string; purchases: number; amountMinor: number }>;
    };
  }
  const profileOf = async (t: TestApp, memberId: string) => ((await (await expectStatus(await t.call("GET", `/v1/members/${memberId}/profile?reason=marketing_review`), 200)).json()) as ProfileView).profile;

  it("counts a back-dated purchase on a day not yet counted, and a second one on that day once", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const partner = await givenPartner(t);
    const daysAgo = (days: number) => ({ occurredAt: new Date(t.clock.now - days * DAY_MS).toISOString() });
    await expectStatus(await purchase(t, partner, card, {}), 201);
    await expectStatus(await purchase(t, partner, card, daysAgo(3)), 201);
    await expectStatus(await purchase(t, partner, card, daysAgo(3)), 201);
    await expectStatus(await purchase(t, partner, card, daysAgo(10)), 201);
    await expectStatus(await purchase(t, partner, card, {}), 201);
    expect(await profileOf(t, member.id)).toMatchObject({ purchaseCount: 5, purchaseDays: 3 });
    expect(profileRow(t, member.id)).toEqual(fromScratch(t, member.id));
  });

  it("counts the days of history imported after the member's later purchases", async () => {
    const t = await createTestApp();
    await importMembers(t.deps, ["member_id,name,email", "x1,Kim,kim-history@example.com"], { format: { delimiter: ",", header: true, columns: {} } });
    const { id: memberId } = t.database.sqlite.prepare("SELECT member_id AS id FROM interactions WHERE source = 'import:members' AND external_id = 'x1'").get() as { id: string };
    const card = await givenCard(t, memberId);
    await expectStatus(await purchase(t, await givenPartner(t), card, { occurredAt: new Date(t.clock.now - 5 * DAY_MS).toISOString() }), 201);
    const localDate = (daysAgo: number) => new Date(t.clock.now + KST_MS - daysAgo * DAY_MS).toISOString().slice(0, 10);
    // Sorted into units of two: [7, 3] and [3, 0] days ago. The unit's lines are all written before
    // their shares of the profile, so the line 3 days ago must not be counted twice.
    const lines = ["member,date,amount", `x1,${localDate(3)},100`, `x1,${localDate(7)},100`, `x1,${localDate(3)},100`, `x1,${localDate(0)},100`];
    const report = await importTransactions(t.deps, lines, { format: { delimiter: ",", header: true, dateFormat: "YYYY-MM-DD" }, chunkSize: 2 });
    expect(report.imported).toBe(4);
    // 7, 5 (the till's), 3 and 0 days ago.
    expect(await profileOf(t, memberId)).toMatchObject({ purchaseCount: 5, purchaseDays: 4 });
  });

  it("counts favourites net of refunds, as monetaryMinor does", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const send: Send = async (method, path, token, body) => {
      const res = await t.call(method, path, { token, body });
      return { status: res.status, body: await res.json() };
    };
    await expectFavouritesNetOfRefunds(send, { memberId: member.id, card: await givenCard(t, member.id), cinema: await givenPartner(t), cafe: await givenPartner(t, "달빛카페"), tag: "net" });
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
