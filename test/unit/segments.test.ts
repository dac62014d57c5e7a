/** The pure segment rules: what a rule compiles to, refresh order and cycles (test/node/segments.test.ts runs them in SQL). */
import { describe, expect, it } from "vitest";
import { compileRule, findCycle, refreshOrder, validateRule, type CompileContext } from "../../src/domain/segments.ts";

const KST = 540;
const ctx = (iso: string): CompileContext => ({ nowMs: Date.parse(iso), utcOffsetMinutes: KST, tiers: ["basic", "silver", "gold", "vip"], customAttributes: new Map() });
const birth = { kind: "column", column: "members.birth_date" } as const;

describe("compileRule", () => {
  it("judges age on the program's local date: 00:30 in Seoul is already the birthday", () => {
    // 2026-05-10T15:30Z is 2026-05-11 00:30 in Seoul.
    expect(compileRule({ attr: "age", op: "gte", value: 30 }, ctx("2026-05-10T15:30:00Z"))).toEqual({ kind: "compare", operand: birth, op: "<=", value: "1996-05-11" });
    expect(compileRule({ attr: "age", op: "gte", value: 30 }, ctx("2026-05-10T14:30:00Z"))).toEqual({ kind: "compare", operand: birth, op: "<=", value: "1996-05-10" });
  });

  it("turns an age into a range of birth dates, so an index on the column can serve it", () => {
    expect(compileRule({ attr: "age", op: "eq", value: 30 }, ctx("2026-05-11T09:00:00Z"))).toEqual({
      kind: "all",
      items: [
        { kind: "compare", operand: birth, op: "<=", value: "1996-05-11" },
        { kind: "compare", operand: birth, op: ">", value: "1995-05-11" },
      ],
    });
  });

  it("counts days since the last purchase in local calendar days", () => {
    const last = { kind: "column", column: "member_profiles.last_purchase_at" } as const;
    const todayStart = Date.parse("2026-05-10T15:00:00Z"); // 2026-05-11 00:00 in Seoul
    expect(compileRule({ attr: "daysSinceLastPurchase", op: "lte", value: 0 }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "compare", operand: last, op: ">=", value: todayStart });
    expect(compileRule({ attr: "daysSinceLastPurchase", op: "gte", value: 1 }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "compare", operand: last, op: "<", value: todayStart });
  });

  it("orders tiers by the program and matches nobody above the top", () => {
    const tier = { kind: "column", column: "members.tier" } as const;
    expect(compileRule({ attr: "tier", op: "gte", value: "gold" }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "oneOf", operand: tier, values: ["gold", "vip"] });
    expect(compileRule({ attr: "tier", op: "gt", value: "vip" }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "constant", value: false });
    // A stored rule naming a tier the program dropped.
    expect(compileRule({ attr: "tier", op: "lt", value: "platinum" }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "constant", value: false });
  });

  it("keeps nin and neq false on a missing value", () => {
    const gender = { kind: "column", column: "members.gender" } as const;
    expect(compileRule({ attr: "gender", op: "nin", value: ["male"] }, ctx("2026-05-11T09:00:00Z"))).toEqual({
      kind: "all",
      items: [{ kind: "present", operand: gender }, { kind: "not", item: { kind: "oneOf", operand: gender, values: ["male"] } }],
    });
  });

  it("makes a stored rule on an attribute no longer declared match nobody", () => {
    expect(compileRule({ attr: "custom.gone", op: "eq", value: "x" }, ctx("2026-05-11T09:00:00Z"))).toEqual({ kind: "constant", value: false });
  });
});

describe("validateRule", () => {
  it("stays shallow on a hostile tree: one error at the ninth level, none below it", () => {
    let rule: unknown = { attr: "age", op: "eq", value: 1 };
    for (let i = 0; i < 5_000; i++) rule = { not: rule };
    expect(validateRule(rule)).toEqual([{ path: Array(8).fill("not"), message: "Too deep: rules nest at most 8 levels" }]);
  });

  it("accepts a rule with 200 nodes and refuses 201", () => {
    const leaf = { attr: "age", op: "eq", value: 1 };
    expect(validateRule({ any: Array(199).fill(leaf) })).toEqual([]);
    expect(validateRule({ any: Array(200).fill(leaf) })).toHaveLength(1);
  });

  it("ignores inherited keys: __proto__ from JSON is just an unknown key", () => {
    const rule = JSON.parse('{"attr": "age", "op": "eq", "value": 1, "__proto__": {"all": []}}') as unknown;
    expect(validateRule(rule)).toEqual([{ path: ["__proto__"], message: expect.stringContaining("Unrecognized key") }]);
  });
});

describe("cycles and refresh order", () => {
  const graph: Record<string, string[]> = { a: [], b: ["a"], c: ["b", "a"], d: ["c"] };
  const dependenciesOf = (id: string) => graph[id] ?? [];

  it("finds the chain a new reference would close", () => {
    expect(findCycle("a", ["d"], dependenciesOf)).toEqual(["a", "d", "c", "b", "a"]);
    expect(findCycle("a", ["a"], dependenciesOf)).toEqual(["a", "a"]);
    expect(findCycle("d", ["a"], dependenciesOf)).toBeNull();
  });

  it("refreshes each segment after those it refers to, ties by id", () => {
    const segments = [
      { id: "d", dependencies: ["c"] },
      { id: "c", dependencies: ["b", "a"] },
      { id: "b", dependencies: ["a", "missing"] },
      { id: "a", dependencies: [] },
      { id: "e", dependencies: [] },
    ];
    expect(refreshOrder(segments)).toEqual(["a", "e", "b", "c", "d"]);
  });

  it("still orders every segment when stored rules somehow form a cycle", () => {
    expect(refreshOrder([{ id: "x", dependencies: ["y"] }, { id: "y", dependencies: ["x"] }, { id: "z", dependencies: [] }])).toEqual(["z", "x", "y"]);
  });
});
