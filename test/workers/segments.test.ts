/**
 * Segments on D1, through the Workers entry: the same WHERE clause (window count, correlated
 * subqueries, bound values), materialised membership written in batches with its interactions,
 * and a refresh that records a leaver once. The members are told apart by a custom attribute of
 * this run, since D1 keeps rows across the tests of a file.
 */
import { describe, expect, it } from "vitest";
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

  it("refuses a rule with the path of the failing node", async () => {
    const problem = await jsonOf<{ code: string; errors: Array<{ field: string }> }>(
      await call("POST", "/v1/segments/preview", { body: { rule: { all: [{ attr: "tier", op: "eq", value: "gold" }, { attr: "gender", op: "gt", value: "male" }] } } }),
      400,
    );
    expect(problem).toMatchObject({ code: "validation_failed", errors: [{ field: "rule.all.1.op" }] });
  });
});
