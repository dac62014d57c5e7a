/**
 * Segments on D1, through the Workers entry: the same WHERE clause (window count, correlated
 * subqueries, bound values), materialised membership written in batches with its interactions,
 * a refresh that records a leaver once, and one larger than a page read or a unit written. The
 * members are told apart by a value of this run, since D1 keeps rows across the tests of a file.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UNIT_SIZE } from "../../src/services/segments/segments.ts";
import { call, givenMember, jsonOf, unique } from "./client.ts";

describe("segments on D1", () => {
  it("previews, materialises and refreshes a segment", async () => {
    const key = `wk_${unique().toLowerCase().replace(/[^a-z0-9]/g, "_")}`;
    await jsonOf(await call("PUT", `/v1/custom-attributes/${key}`, { body: { type: "enum", values: ["yes", "no"] } }), 200);
    const members = [await givenMember({ birthDate: "1990-01-01" }), await givenMember({ birthDate: "2001-06-30" }), await givenMember()];
    for (const [m, value] of [[members[0]!, "yes"], [members[1]!, "yes"], [members[2]!, "no"]] as const) {
      await jsonOf(await call("PUT", `/v1/members/${m.id}/attributes`, { body: { attributes: { [key]: value } } }), 200);
    }
    const rule = { all: [{ attr: `custom.${key}`, op: "eq", value: "yes" }, { attr: "tier", op: "lte", value: "gold" }, { not: { attr: "rfm.r", op: "gte", value: 3 } }] };
    const preview = await jsonOf<{ count: number; sample: Array<{ memberId: string }> }>(await call("POST", "/v1/segments/preview", { body: { rule } }), 200);
    expect(preview.count).toBe(2);
    expect(preview.sample.map((s) => s.memberId).sort()).toEqual([members[0]!.id, members[1]!.id].sort());

    const segment = await jsonOf<{ id: string; memberCount: number }>(await call("POST", "/v1/segments", { body: { name: `D1 ${key}`, rule } }), 201);
    expect(segment.memberCount).toBe(2);

    await jsonOf(await call("PUT", `/v1/members/${members[1]!.id}/attributes`, { body: { attributes: { [key]: "no" } } }), 200);
    expect(await jsonOf(await call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 1, memberCount: 1 });
    expect(await jsonOf(await call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 0, memberCount: 1 });
    const page = await jsonOf<{ items: Array<{ memberId: string }> }>(await call("GET", `/v1/segments/${segment.id}/members`), 200);
    expect(page.items.map((m) => m.memberId)).toEqual([members[0]!.id]);

    // Every kind of operand in one statement: ages, windows, consents, affinities, membership.
    const wide = {
      any: [
        { all: [{ attr: "inSegment", op: "eq", value: segment.id }, { attr: "age", op: "between", value: [30, 40] }] },
        { all: [{ attr: "spendWithin", days: 90, op: "gte", value: 1 }, { attr: "consent.email", op: "eq", value: true }] },
        { all: [{ attr: "boughtInCategory", op: "in", value: ["ticket", "cafe"] }, { attr: "daysSinceLastPurchase", op: "lte", value: 30 }] },
      ],
    };
    const matched = await jsonOf<{ sample: Array<{ memberId: string }> }>(await call("POST", "/v1/segments/preview", { body: { rule: wide } }), 200);
    expect(matched.sample.map((s) => s.memberId)).toContain(members[0]!.id);
  });

  it("reads and writes a membership larger than a page exactly", async () => {
    // Two pages (and units) and part of a third; newcomers come between them, and some members leave.
    const tag = `wk-${unique()}`;
    const enrol = async (ids: string[], region: string) => {
      for (let i = 0; i < ids.length; i += 500) {
        await env.DB.prepare("INSERT INTO members (id, name, email, region, created_at, updated_at) SELECT value, 'unit', value || '@example.com', ?1, 0, 0 FROM json_each(?2)")
          .bind(region, JSON.stringify(ids.slice(i, i + 500)))
          .run();
      }
    };
    const first = Array.from({ length: 2 * UNIT_SIZE + 345 }, (_, i) => `mem_${tag}_${String(i).padStart(5, "0")}`);
    await enrol(first, tag);
    const segment = await jsonOf<{ id: string; memberCount: number }>(await call("POST", "/v1/segments", { body: { name: `D1 ${tag}`, rule: { attr: "region", op: "eq", value: tag } } }), 201);
    expect(segment.memberCount).toBe(first.length);

    const movers = first.filter((_, i) => i % 3 === 0);
    await env.DB.prepare("UPDATE members SET region = 'elsewhere' WHERE id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(movers)).run();
    const newcomers = Array.from({ length: UNIT_SIZE + 200 }, (_, i) => `mem_${tag}_${String(i * 2).padStart(5, "0")}n`);
    await enrol(newcomers, tag);
    expect(await jsonOf(await call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({
      entered: newcomers.length,
      left: movers.length,
      memberCount: first.length - movers.length + newcomers.length,
    });
    const held = await env.DB.prepare("SELECT member_id FROM segment_members WHERE segment_id = ?1 ORDER BY member_id").bind(segment.id).raw<[string]>();
    expect(held.map(([id]) => id)).toEqual([...first.filter((_, i) => i % 3 !== 0), ...newcomers].sort());
    const recorded = await env.DB.prepare("SELECT kind, COUNT(*) AS n, COUNT(DISTINCT member_id) AS members FROM interactions WHERE reference = ?1 GROUP BY kind ORDER BY kind").bind(segment.id).all();
    expect(recorded.results).toEqual([
      { kind: "segment_enter", n: first.length + newcomers.length, members: first.length + newcomers.length },
      { kind: "segment_leave", n: movers.length, members: movers.length },
    ]);
    expect(await jsonOf(await call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 0 });

    // A rule on scores walks member_scores, paged by its member id.
    const valued = first.filter((_, i) => i % 5 !== 0);
    await env.DB.prepare("INSERT INTO member_scores (member_id, clv_minor, lifecycle, scored_at) SELECT value, 50000, 'active', 0 FROM json_each(?1)").bind(JSON.stringify(valued)).run();
    const rule = { all: [{ attr: "region", op: "eq", value: tag }, { attr: "clvMinor", op: "gte", value: 10_000 }] };
    const scored = await jsonOf<{ memberCount: number }>(await call("POST", "/v1/segments", { body: { name: `D1 valued ${tag}`, rule } }), 201);
    expect(scored.memberCount).toBe(valued.filter((id) => !movers.includes(id)).length);
    expect(scored.memberCount).toBeGreaterThan(UNIT_SIZE);
  });

  it("refuses a rule with the path of the failing node", async () => {
    const problem = await jsonOf<{ code: string; errors: Array<{ field: string }> }>(
      await call("POST", "/v1/segments/preview", { body: { rule: { all: [{ attr: "tier", op: "eq", value: "gold" }, { attr: "gender", op: "gt", value: "male" }] } } }),
      400,
    );
    expect(problem).toMatchObject({ code: "validation_failed", errors: [{ field: "rule.all.1.op" }] });
  });
});
