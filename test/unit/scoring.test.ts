/** The base's scoring without a database (domain/scoring.ts): what the recompute writes, from columns in memory. */
import { describe, expect, it } from "vitest";
import { historiesOf, SCORE_COLUMNS, scoreBase, type Base } from "../../src/domain/scoring.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-06-01T00:00:00Z");

/** Members as rows, turned into the columns the recompute reads. */
function baseOf(members: Array<{ id: string; enrolledDaysAgo: number; first?: number; last?: number; days?: number; monetary?: number }>): Base {
  const n = members.length;
  const col = (f: (m: (typeof members)[number]) => number) => Float64Array.from(members.map(f));
  return {
    ids: members.map((m) => m.id),
    enrolledAt: members.map((m) => NOW - m.enrolledDaysAgo * DAY),
    tier: members.map(() => "basic"),
    tierRequalifyAt: new Float64Array(n).fill(Number.NaN),
    firstPurchaseAt: col((m) => (m.first === undefined ? Number.NaN : NOW - m.first * DAY)),
    firstPurchaseMinor: col((m) => (m.monetary ?? 0) / Math.max(1, m.days ?? 1)),
    lastPurchaseAt: col((m) => (m.last === undefined ? Number.NaN : NOW - m.last * DAY)),
    purchaseDays: Int32Array.from(members.map((m) => m.days ?? 0)),
    monetaryMinor: col((m) => m.monetary ?? 0),
    previousLifecycle: new Array(n),
    previousScoredAt: new Float64Array(n).fill(Number.NaN),
  };
}

describe("scoreBase", () => {
  const base = baseOf([
    { id: "mem_c", enrolledDaysAgo: 2 },
    { id: "mem_a", enrolledDaysAgo: 400, first: 390, last: 3, days: 12, monetary: 240_000 },
    { id: "mem_b", enrolledDaysAgo: 300, first: 290, last: 200, days: 2, monetary: 30_000 },
  ]);
  const histories = historiesOf(base, NOW, 540);
  const scored = scoreBase(base, histories, { bgNbd: null, gammaGamma: null }, NOW, { tiers: [{ code: "basic", name: "Basic", qualifyingPoints: 0 }, { code: "royal", name: "Royal", qualifyingPoints: 0, topSpendPercent: 50 }] as never });
  const rows = scored.order.map((i) => Object.fromEntries(SCORE_COLUMNS.map((c, k) => [c, scored.row(i)[k]])));

  it("writes one row per member, in member-id order, each with every column", () => {
    expect(rows.map((r) => r.member_id)).toEqual(["mem_a", "mem_b", "mem_c"]);
    for (const row of rows) expect(Object.keys(row)).toEqual(SCORE_COLUMNS);
  });

  it("scores RFM for buyers only, and the recency in whole days", () => {
    expect(rows[0]).toMatchObject({ recency_days: 3, scored_at: NOW });
    expect(rows[0]!.r).toBeGreaterThan(rows[1]!.r as number);
    expect(rows[2]).toMatchObject({ recency_days: null, r: null, f: null, m: null, rfm_segment: null });
  });

  it("leaves the model's columns empty without a fit, and counts every member in a lifecycle stage", () => {
    for (const row of rows) expect(row).toMatchObject({ p_alive: null, expected_purchases: null, clv_minor: null });
    expect(Object.values(scored.lifecycle).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("gives the royal tier to the top half of buyers by spend", () => {
    expect([...scored.spendTierOf]).toEqual([["mem_a", "royal"]]);
    expect(rows[0]!.spend_tier).toBe("royal");
  });
});
