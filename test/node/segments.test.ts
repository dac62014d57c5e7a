/**
 * Rule segments: every operator on every attribute type against a small base whose answers are
 * known by hand; invalid rules refused with the path of the failing node; previews equal the
 * materialised membership on the demo program; refreshes record who enters and leaves, once;
 * inSegment and its cycles; typed custom attributes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Problem } from "../../src/errors.ts";
import { DEMO_MEMBER_COUNT, seedDemo } from "../../src/cli/seed/seed-demo.ts";
import { refreshSegments, UNIT_SIZE } from "../../src/services/segments/segments.ts";
import { createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, purchase } from "../helpers/factories.ts";

const DAY_MS = 86_400_000;

async function json<T>(res: Response, status: number): Promise<T> {
  return (await (await expectStatus(res, status)).json()) as T;
}

interface Preview {
  count: number;
  sample: Array<{ memberId: string; displayName: string; tier: string }>;
}
interface Segment {
  id: string;
  memberCount: number;
}

// ---------------------------------------------------------------------------------------------
// A base of five members whose every attribute is known, and a closed sixth who matches nothing.

const NAMES = ["ana", "ben", "cho", "dan", "eve"] as const;
type Name = (typeof NAMES)[number];

interface Base {
  t: TestApp;
  ids: Record<Name | "zed", string>;
  nameOf: Map<string, string>;
  cinemaId: string;
  cafeId: string;
  goldPlus: string;
  young: string;
}

async function cafePartner(t: TestApp) {
  const partner = await json<{ id: string }>(await t.call("POST", "/v1/partners", { body: { name: "모퉁이커피", category: "cafe" } }), 201);
  const key = await json<{ key: string }>(await t.call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS", scopes: ["cards:verify", "purchases:write"] } }), 201);
  return { id: partner.id, key: key.key };
}

async function buildBase(): Promise<Base> {
  const t = await createTestApp();
  const db = t.database.sqlite;
  const cinema = await givenPartner(t, "별빛시네마");
  const cafe = await cafePartner(t);
  const member = async (fields: Record<string, unknown>) => {
    const m = await givenMember(t, { phone: null, ...fields });
    return { id: m.id, card: await givenCard(t, m.id) };
  };
  // Ages are on 2026-05-11 (Seoul), when the base is judged: ana turns 30 that day, ben 30 the next.
  const ana = await member({ name: "김아나", birthDate: "1996-05-11", gender: "female", region: "서울 강남구", marketingConsent: { channels: ["email"], source: "test" } });
  const ben = await member({ name: "이벤", birthDate: "1996-05-12", gender: "male", region: "부산 해운대구" });
  const cho = await member({ name: "박초희", birthDate: "1960-01-01", gender: "other", region: "서울 마포구", marketingConsent: { channels: ["email", "sms"], source: "test" } });
  const dan = await member({ name: "최단" });
  const eve = await member({ name: "정이브", birthDate: "2010-06-15", gender: "undisclosed", region: "서울 강남구" });
  const zed = await member({ name: "한제드", birthDate: "1990-01-01", gender: "female", region: "서울 강남구" });

  const buy = async (partner: { key: string }, card: { number: string }, amountMinor: number, items?: unknown[]) =>
    expectStatus(await purchase(t, partner, card, { amountMinor, ...(items && { items }) }), 201);
  // 2026-03-02: ana a cinema ticket (item category "ticket"), cho a coffee (partner category "cafe").
  await buy(cinema, ana.card, 30_000, [{ sku: "T-1", category: "ticket", amountMinor: 30_000, quantity: 1 }]);
  await buy(cafe, cho.card, 5_000);
  await buy(cinema, zed.card, 90_000);
  t.clock.advance(60 * DAY_MS); // 2026-05-01
  await buy(cafe, ana.card, 20_000);
  t.clock.advance(5 * DAY_MS); // 2026-05-06
  await buy(cinema, ben.card, 10_000);
  await buy(cinema, ben.card, 15_000);
  t.clock.advance(5 * DAY_MS); // 2026-05-11, 18:00 in Seoul: "now" for every case

  await expectStatus(await t.call("POST", `/v1/members/${dan.id}/adjustments`, { body: { points: 1_000, reason: "welcome gift" } }), 201);
  // cho withdrew email consent later (the latest record wins).
  db.prepare("INSERT INTO consents (id, member_id, purpose, channel, granted, source, recorded_at) VALUES ('cns_withdrawn', ?, 'marketing', 'email', 0, 'test', ?)").run(cho.id, t.clock.now);
  const tier = db.prepare("UPDATE members SET tier = ? WHERE id = ?");
  for (const [m, code] of [[ana, "gold"], [ben, "basic"], [cho, "vip"], [dan, "silver"], [eve, "basic"], [zed, "gold"]] as const) tier.run(code, m.id);
  db.prepare("UPDATE members SET status = 'closed' WHERE id = ?").run(zed.id);
  const score = db.prepare("INSERT INTO member_scores (member_id, r, f, m, rfm_segment, p_alive, clv_minor, lifecycle, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  score.run(ana.id, 5, 4, 5, "champions", 0.9, 80_000, "vip", t.clock.now);
  score.run(ben.id, 4, 3, 3, "potential_loyalist", 0.6, 30_000, "active", t.clock.now);
  score.run(cho.id, 1, 1, 1, "lost", 0.05, 0, "dormant", t.clock.now);
  score.run(dan.id, null, null, null, null, null, null, "at_risk", t.clock.now); // scored, never bought
  score.run(zed.id, 5, 5, 5, "champions", 0.99, 900_000, "vip", t.clock.now);
  // eve: never scored.

  for (const [key, body] of [
    ["marital_status", { type: "enum", values: ["single", "married", "divorced"] }],
    ["occupation", { type: "text" }],
    ["children", { type: "number" }],
    ["newsletter", { type: "boolean", description: "Reads the monthly letter" }],
  ] as const) {
    await expectStatus(await t.call("PUT", `/v1/custom-attributes/${key}`, { body }), 200);
  }
  const setAttributes = async (id: string, attributes: Record<string, unknown>) => expectStatus(await t.call("PUT", `/v1/members/${id}/attributes`, { body: { attributes } }), 200);
  await setAttributes(ana.id, { marital_status: "married", occupation: "engineer", children: 2, newsletter: true });
  await setAttributes(ben.id, { marital_status: "single", occupation: "teacher", children: 0, newsletter: false });
  await setAttributes(cho.id, { marital_status: "married", children: 3 });
  await setAttributes(zed.id, { marital_status: "married", occupation: "engineer", children: 2, newsletter: true });

  const goldPlus = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "Gold and above", rule: { attr: "tier", op: "gte", value: "gold" } } }), 201);
  const young = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "Under 18", rule: { attr: "age", op: "lt", value: 18 } } }), 201);
  const ids = { ana: ana.id, ben: ben.id, cho: cho.id, dan: dan.id, eve: eve.id, zed: zed.id };
  return { t, ids, nameOf: new Map(Object.entries(ids).map(([n, id]) => [id, n])), cinemaId: cinema.id, cafeId: cafe.id, goldPlus: goldPlus.id, young: young.id };
}

let base: Base;
beforeAll(async () => {
  base = await buildBase();
});

async function matches(rule: unknown): Promise<string[]> {
  const preview = await json<Preview>(await base.t.call("POST", "/v1/segments/preview", { body: { rule } }), 200);
  const names = preview.sample.map((s) => base.nameOf.get(s.memberId) ?? s.memberId).sort();
  expect(preview.count).toBe(names.length);
  return names;
}

describe("the base is what the cases assume", () => {
  it("has the balances, tiers and purchases the tables use", async () => {
    const balances = await Promise.all(NAMES.map(async (n) => (await json<{ available: number }>(await base.t.call("GET", `/v1/members/${base.ids[n]}/balance`), 200)).available));
    expect(balances).toEqual([500, 250, 50, 1_000, 0]);
    expect(new Date(base.t.clock.now).toISOString()).toBe("2026-05-11T09:00:00.000Z");
    expect(base.t.clock.now).toBe(T0 + 70 * DAY_MS);
  });
});

/** [attribute, op, value, expected members] — `days` rides on the attribute as "spendWithin@90". */
type Case = [string, string, unknown, Name[]];

const byType: Record<string, Case[]> = {
  "integer (age, derived from the birth date in the program's time zone)": [
    ["age", "eq", 30, ["ana"]],
    ["age", "neq", 30, ["ben", "cho", "eve"]],
    ["age", "in", [29, 15], ["ben", "eve"]],
    ["age", "nin", [29, 15], ["ana", "cho"]],
    ["age", "gt", 29, ["ana", "cho"]],
    ["age", "gte", 30, ["ana", "cho"]],
    ["age", "lt", 30, ["ben", "eve"]],
    ["age", "lte", 29, ["ben", "eve"]],
    ["age", "between", [15, 29], ["ben", "eve"]],
    ["age", "exists", undefined, ["ana", "ben", "cho", "eve"]],
  ],
  "integer (balance: never missing)": [
    ["balance", "eq", 500, ["ana"]],
    ["balance", "neq", 0, ["ana", "ben", "cho", "dan"]],
    ["balance", "in", [250, 50], ["ben", "cho"]],
    ["balance", "nin", [0], ["ana", "ben", "cho", "dan"]],
    ["balance", "gt", 250, ["ana", "dan"]],
    ["balance", "gte", 250, ["ana", "ben", "dan"]],
    ["balance", "lt", 250, ["cho", "eve"]],
    ["balance", "lte", 50, ["cho", "eve"]],
    ["balance", "between", [50, 500], ["ana", "ben", "cho"]],
  ],
  "integer (daysSinceLastPurchase: local calendar days)": [
    ["daysSinceLastPurchase", "eq", 10, ["ana"]],
    ["daysSinceLastPurchase", "neq", 10, ["ben", "cho"]],
    ["daysSinceLastPurchase", "in", [5, 70], ["ben", "cho"]],
    ["daysSinceLastPurchase", "nin", [5], ["ana", "cho"]],
    ["daysSinceLastPurchase", "gt", 5, ["ana", "cho"]],
    ["daysSinceLastPurchase", "gte", 10, ["ana", "cho"]],
    ["daysSinceLastPurchase", "lt", 10, ["ben"]],
    ["daysSinceLastPurchase", "lte", 10, ["ana", "ben"]],
    ["daysSinceLastPurchase", "between", [6, 70], ["ana", "cho"]],
    ["daysSinceLastPurchase", "exists", undefined, ["ana", "ben", "cho"]],
  ],
  "integer (RFM scores, missing until scored)": [
    ["rfm.r", "eq", 5, ["ana"]],
    ["rfm.r", "neq", 5, ["ben", "cho"]],
    ["rfm.r", "in", [1, 5], ["ana", "cho"]],
    ["rfm.r", "nin", [1, 5], ["ben"]],
    ["rfm.r", "gt", 4, ["ana"]],
    ["rfm.r", "gte", 4, ["ana", "ben"]],
    ["rfm.r", "lt", 4, ["cho"]],
    ["rfm.r", "lte", 4, ["ben", "cho"]],
    ["rfm.r", "between", [1, 4], ["ben", "cho"]],
    ["rfm.r", "exists", undefined, ["ana", "ben", "cho"]],
    ["rfm.f", "eq", 4, ["ana"]],
    ["rfm.m", "lte", 3, ["ben", "cho"]],
  ],
  "integer (counts and money from the profile and the purchase window)": [
    ["purchaseCount", "eq", 2, ["ana", "ben"]],
    ["purchaseCount", "lt", 1, ["dan", "eve"]],
    ["monetaryMinor", "between", [1, 25_000], ["ben", "cho"]],
    ["monetaryMinor", "eq", 0, ["dan", "eve"]],
    ["purchaseCountWithin@30", "eq", 0, ["cho", "dan", "eve"]],
    ["purchaseCountWithin@30", "gte", 2, ["ben"]],
    ["spendWithin@7", "gt", 0, ["ben"]],
    ["spendWithin@90", "gte", 30_000, ["ana"]],
    ["spendWithin@90", "between", [5_000, 25_000], ["ben", "cho"]],
    ["spendWithin@30", "nin", [20_000, 25_000], ["cho", "dan", "eve"]],
    ["clvMinor", "gte", 30_000, ["ana", "ben"]],
    ["clvMinor", "lt", 1, ["cho"]],
    ["clvMinor", "exists", undefined, ["ana", "ben", "cho"]],
  ],
  "number (pAlive, 0–1)": [
    ["pAlive", "eq", 0.9, ["ana"]],
    ["pAlive", "neq", 0.9, ["ben", "cho"]],
    ["pAlive", "in", [0.6, 0.05], ["ben", "cho"]],
    ["pAlive", "nin", [0.6], ["ana", "cho"]],
    ["pAlive", "gt", 0.6, ["ana"]],
    ["pAlive", "gte", 0.6, ["ana", "ben"]],
    ["pAlive", "lt", 0.6, ["cho"]],
    ["pAlive", "lte", 0.6, ["ben", "cho"]],
    ["pAlive", "between", [0.05, 0.6], ["ben", "cho"]],
    ["pAlive", "exists", undefined, ["ana", "ben", "cho"]],
  ],
  "number (custom.children)": [
    ["custom.children", "eq", 2, ["ana"]],
    ["custom.children", "neq", 3, ["ana", "ben"]],
    ["custom.children", "in", [0, 3], ["ben", "cho"]],
    ["custom.children", "nin", [0], ["ana", "cho"]],
    ["custom.children", "gt", 0, ["ana", "cho"]],
    ["custom.children", "gte", 2, ["ana", "cho"]],
    ["custom.children", "lt", 2, ["ben"]],
    ["custom.children", "lte", 2, ["ana", "ben"]],
    ["custom.children", "between", [0, 2], ["ana", "ben"]],
    ["custom.children", "exists", undefined, ["ana", "ben", "cho"]],
  ],
  "text (region, custom.occupation)": [
    ["region", "eq", "서울 강남구", ["ana", "eve"]],
    ["region", "neq", "서울 강남구", ["ben", "cho"]],
    ["region", "in", ["서울 마포구", "부산 해운대구"], ["ben", "cho"]],
    ["region", "nin", ["서울 강남구"], ["ben", "cho"]],
    ["region", "exists", undefined, ["ana", "ben", "cho", "eve"]],
    ["custom.occupation", "eq", "engineer", ["ana"]],
    ["custom.occupation", "neq", "engineer", ["ben"]],
    ["custom.occupation", "in", ["teacher", "nurse"], ["ben"]],
    ["custom.occupation", "nin", ["teacher"], ["ana"]],
    ["custom.occupation", "exists", undefined, ["ana", "ben"]],
  ],
  "enum (gender, lifecycle, rfm.segment, custom.marital_status)": [
    ["gender", "eq", "female", ["ana"]],
    ["gender", "neq", "female", ["ben", "cho", "eve"]],
    ["gender", "in", ["male", "other"], ["ben", "cho"]],
    ["gender", "nin", ["male"], ["ana", "cho", "eve"]],
    ["gender", "exists", undefined, ["ana", "ben", "cho", "eve"]],
    ["lifecycle", "eq", "vip", ["ana"]],
    ["lifecycle", "neq", "vip", ["ben", "cho", "dan"]],
    ["lifecycle", "in", ["dormant", "at_risk"], ["cho", "dan"]],
    ["lifecycle", "nin", ["vip", "active"], ["cho", "dan"]],
    ["lifecycle", "exists", undefined, ["ana", "ben", "cho", "dan"]],
    ["rfm.segment", "eq", "champions", ["ana"]],
    ["rfm.segment", "nin", ["champions"], ["ben", "cho"]],
    ["rfm.segment", "exists", undefined, ["ana", "ben", "cho"]],
    ["custom.marital_status", "eq", "married", ["ana", "cho"]],
    ["custom.marital_status", "neq", "married", ["ben"]],
    ["custom.marital_status", "in", ["single", "divorced"], ["ben"]],
    ["custom.marital_status", "nin", ["single"], ["ana", "cho"]],
    ["custom.marital_status", "exists", undefined, ["ana", "ben", "cho"]],
  ],
  "boolean (consents: the latest record wins, never asked is false; custom.newsletter)": [
    ["consent.email", "eq", true, ["ana"]],
    ["consent.email", "eq", false, ["ben", "cho", "dan", "eve"]],
    ["consent.email", "neq", true, ["ben", "cho", "dan", "eve"]],
    ["consent.email", "neq", false, ["ana"]],
    ["consent.sms", "eq", true, ["cho"]],
    ["consent.push", "eq", true, []],
    ["custom.newsletter", "eq", true, ["ana"]],
    ["custom.newsletter", "eq", false, ["ben"]],
    ["custom.newsletter", "neq", true, ["ben"]],
    ["custom.newsletter", "exists", undefined, ["ana", "ben"]],
  ],
  "tier (ordered by the program: basic < silver < gold < vip)": [
    ["tier", "eq", "gold", ["ana"]],
    ["tier", "neq", "basic", ["ana", "cho", "dan"]],
    ["tier", "in", ["silver", "vip"], ["cho", "dan"]],
    ["tier", "nin", ["basic"], ["ana", "cho", "dan"]],
    ["tier", "gt", "silver", ["ana", "cho"]],
    ["tier", "gte", "silver", ["ana", "cho", "dan"]],
    ["tier", "lt", "silver", ["ben", "eve"]],
    ["tier", "lte", "silver", ["ben", "dan", "eve"]],
    ["tier", "between", ["silver", "gold"], ["ana", "dan"]],
    ["tier", "gt", "vip", []],
  ],
  "reference (partners, categories, segments: in any of / in none of)": [
    ["boughtAtPartner", "eq", "$cinema", ["ana", "ben"]],
    ["boughtAtPartner", "neq", "$cinema", ["cho", "dan", "eve"]],
    ["boughtAtPartner", "in", ["$cinema", "$cafe"], ["ana", "ben", "cho"]],
    ["boughtAtPartner", "nin", ["$cinema", "$cafe"], ["dan", "eve"]],
    ["boughtInCategory", "eq", "ticket", ["ana"]],
    ["boughtInCategory", "eq", "cafe", ["ana", "cho"]],
    ["boughtInCategory", "neq", "cafe", ["ben", "dan", "eve"]],
    ["boughtInCategory", "in", ["ticket", "cinema"], ["ana", "ben"]],
    ["boughtInCategory", "nin", ["cafe"], ["ben", "dan", "eve"]],
    ["inSegment", "eq", "$goldPlus", ["ana", "cho"]],
    ["inSegment", "neq", "$goldPlus", ["ben", "dan", "eve"]],
    ["inSegment", "in", ["$goldPlus", "$young"], ["ana", "cho", "eve"]],
    ["inSegment", "nin", ["$goldPlus", "$young"], ["ben", "dan"]],
  ],
};

/** "$cinema" and friends stand for ids made when the base is built. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value !== "string" || !value.startsWith("$")) return value;
  return { $cinema: base.cinemaId, $cafe: base.cafeId, $goldPlus: base.goldPlus, $young: base.young }[value];
}

function comparison(attr: string, op: string, value: unknown) {
  const [name, days] = attr.split("@");
  return { attr: name, op, ...(days && { days: Number(days) }), ...(value !== undefined && { value: resolve(value) }) };
}

describe.each(Object.entries(byType))("%s", (_, cases) => {
  it.each(cases)("%s %s %j", async (attr, op, value, expected) => {
    expect(await matches(comparison(attr, op, value))).toEqual([...expected].sort());
  });
});

describe("the operators cover every attribute", () => {
  it("has a case for every built-in attribute and every operator it takes", async () => {
    const { SEGMENT_ATTRIBUTES, opsFor } = await import("../../src/domain/segments.ts");
    const covered = new Set(Object.values(byType).flat().map(([attr, op]) => `${attr.split("@")[0]} ${op}`));
    const attrs = new Set(Object.values(byType).flat().map(([attr]) => attr.split("@")[0]));
    expect(Object.keys(SEGMENT_ATTRIBUTES).filter((a) => !attrs.has(a))).toEqual([]);
    // Every operator of each type is exercised on at least one attribute of that type.
    for (const [name, spec] of Object.entries(SEGMENT_ATTRIBUTES)) {
      const sameType = Object.entries(SEGMENT_ATTRIBUTES).filter(([, s]) => s.type === spec.type && s.nullable === spec.nullable).map(([n]) => n);
      for (const op of opsFor(spec)) expect(sameType.some((a) => covered.has(`${a} ${op}`)), `${name} (${spec.type}) ${op}`).toBe(true);
    }
  });
});

describe("groups", () => {
  it.each<[string, unknown, Name[]]>([
    ["not turns a comparison on a missing value into true", { not: { attr: "age", op: "gte", value: 30 } }, ["ben", "dan", "eve"]],
    ["not of exists asks for members without a value", { not: { attr: "rfm.r", op: "exists" } }, ["dan", "eve"]],
    ["double negation", { not: { not: { attr: "gender", op: "neq", value: "male" } } }, ["ana", "cho", "eve"]],
    ["any", { any: [{ attr: "tier", op: "eq", value: "vip" }, { attr: "gender", op: "eq", value: "male" }] }, ["ben", "cho"]],
    ["all", { all: [{ attr: "region", op: "eq", value: "서울 강남구" }, { not: { attr: "inSegment", op: "eq", value: "$young" } }] }, ["ana"]],
    ["not of a group with a missing value", { not: { all: [{ attr: "pAlive", op: "gte", value: 0.5 }, { attr: "balance", op: "gte", value: 0 }] } }, ["cho", "dan", "eve"]],
    [
      "the README example",
      { all: [{ attr: "tier", op: "gte", value: "gold" }, { attr: "spendWithin", days: 90, op: "gte", value: 1_000 }, { not: { attr: "consent.email", op: "eq", value: false } }] },
      ["ana"],
    ],
    [
      "eight levels deep",
      { all: [{ any: [{ not: { all: [{ any: [{ not: { all: [{ attr: "gender", op: "eq", value: "male" }] } }] }] } }] }] },
      ["ben"],
    ],
  ])("%s", async (_, rule, expected) => {
    const resolved = JSON.parse(JSON.stringify(rule), (_k, v: unknown) => resolve(v));
    expect(await matches(resolved)).toEqual([...expected].sort());
  });

  it("never matches a closed member, whatever the rule", async () => {
    const preview = await json<Preview>(await base.t.call("POST", "/v1/segments/preview", { body: { rule: { attr: "balance", op: "gte", value: 0 } } }), 200);
    expect(preview.count).toBe(5);
    expect(preview.sample.map((s) => s.memberId)).not.toContain(base.ids.zed);
  });

  it("shows marketers a sample of ids, masked names and tiers, never contact details", async () => {
    const preview = await json<Preview>(await base.t.call("POST", "/v1/segments/preview", { body: { rule: { attr: "tier", op: "eq", value: "gold" } } }), 200);
    expect(preview.sample).toEqual([{ memberId: base.ids.ana, displayName: "김*나", tier: "gold" }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Invalid rules: 400 validation_failed naming the node (its path into the tree) and why.

type Bad = [string, unknown, Array<[string, RegExp]>];

const leaf = { attr: "tier", op: "eq", value: "gold" };
const nest = (depth: number): unknown => (depth === 1 ? leaf : { not: nest(depth - 1) });

const invalid: Bad[] = [
  ["no rule", undefined, [["rule", /Required/]]],
  ["a rule that is not an object", "tier = gold", [["rule", /Expected a condition/]]],
  ["an unknown attribute", { attr: "colour", op: "eq", value: "red" }, [["rule.attr", /Unknown attribute "colour"; one of age, gender/]]],
  ["a consent channel that does not exist", { attr: "consent.fax", op: "eq", value: true }, [["rule.attr", /Unknown attribute/]]],
  ["an operator the type does not take", { all: [leaf, leaf, { attr: "gender", op: "gt", value: "male" }] }, [["rule.all.2.op", /gt does not apply to gender \(one of a fixed list\): use eq, neq, in, nin, exists/]]],
  ["an order comparison on text", { attr: "region", op: "lt", value: "서울" }, [["rule.op", /lt does not apply to region \(text\)/]]],
  ["between on a boolean", { attr: "consent.email", op: "between", value: [false, true] }, [["rule.op", /between does not apply to consent.email/]]],
  ["exists on what every member has", { attr: "balance", op: "exists" }, [["rule.op", /exists does not apply to balance \(every member has one\)/]]],
  ["an unknown operator", { attr: "age", op: "like", value: 3 }, [["rule.op", /Unknown operator; one of eq, neq/]]],
  ["a missing operator", { attr: "age", value: 3 }, [["rule.op", /Required/]]],
  ["a missing attribute", { op: "eq", value: 3 }, [["rule.attr", /Required/]]],
  ["a missing value", { any: [leaf, { attr: "age", op: "gte" }] }, [["rule.any.1.value", /Required for gte/]]],
  ["a value where exists takes none", { attr: "age", op: "exists", value: true }, [["rule.value", /exists takes no value/]]],
  ["a string for an integer", { attr: "age", op: "eq", value: "thirty" }, [["rule.value", /Expected an integer 0–150/]]],
  ["an age over 150", { attr: "age", op: "lt", value: 151 }, [["rule.value", /Expected an integer 0–150/]]],
  ["a fraction of a point", { attr: "balance", op: "gte", value: 10.5 }, [["rule.value", /Expected an integer/]]],
  ["an RFM score of 6", { attr: "rfm.r", op: "eq", value: 6 }, [["rule.value", /Expected an integer 1–5/]]],
  ["a probability over 1", { attr: "pAlive", op: "gt", value: 1.5 }, [["rule.value", /Expected a number 0–1/]]],
  ["a number for a boolean", { attr: "consent.email", op: "eq", value: 1 }, [["rule.value", /Expected true or false/]]],
  ["a gender not in the list", { attr: "gender", op: "eq", value: "robot" }, [["rule.value", /Expected one of female, male, other, undisclosed/]]],
  ["an RFM segment slug that does not exist", { attr: "rfm.segment", op: "eq", value: "whales" }, [["rule.value", /Expected one of champions, loyal/]]],
  ["a lifecycle stage that does not exist", { attr: "lifecycle", op: "in", value: ["vip", "zombie"] }, [["rule.value.1", /Expected one of new, active, vip/]]],
  ["in without a list", { attr: "gender", op: "in", value: "male" }, [["rule.value", /in takes a list of values/]]],
  ["an empty in list", { attr: "gender", op: "nin", value: [] }, [["rule.value", /nin takes 1–50 values/]]],
  ["eq with a list", { attr: "gender", op: "eq", value: ["male"] }, [["rule.value", /eq takes one value \(in and nin take lists\)/]]],
  ["between with one bound", { attr: "age", op: "between", value: [30] }, [["rule.value", /between takes \[low, high\]/]]],
  ["between upside down", { attr: "age", op: "between", value: [40, 30] }, [["rule.value", /low ≤ high/]]],
  ["between tiers upside down", { attr: "tier", op: "between", value: ["vip", "silver"] }, [["rule.value", /low ≤ high/]]],
  ["a window without days", { attr: "spendWithin", op: "gte", value: 100_000 }, [["rule.days", /Required: spendWithin counts over a window of days \(1–3650\)/]]],
  ["a window of 0 days", { attr: "purchaseCountWithin", days: 0, op: "gte", value: 1 }, [["rule.days", /\S/]]],
  ["a window over ten years", { attr: "spendWithin", days: 3651, op: "gte", value: 1 }, [["rule.days", /At most 3650 days/]]],
  ["days on an attribute without a window", { attr: "age", days: 30, op: "gte", value: 1 }, [["rule.days", /Only purchaseCountWithin and spendWithin take days/]]],
  ["an unknown key in a comparison", { attr: "age", op: "gte", value: 1, unit: "years" }, [["rule.unit", /Unrecognized key/]]],
  ["an unknown key next to a group", { all: [leaf], op: "eq" }, [["rule.op", /Unrecognized key: a group holds only "all"/]]],
  ["two groups in one node", { all: [leaf], any: [leaf] }, [["rule", /One of all, any or not per node, not all and any/]]],
  ["an empty group", { any: [] }, [["rule.any", /Give at least one condition/]]],
  ["a group that is not a list", { all: leaf }, [["rule.all", /Expected a list of conditions/]]],
  ["a number where a condition goes", { all: [leaf, 7] }, [["rule.all.1", /Expected a condition/]]],
  ["an empty condition", { not: {} }, [["rule.not", /Expected a condition/]]],
  ["nine levels deep", nest(9), [["rule.not.not.not.not.not.not.not.not", /Too deep: rules nest at most 8 levels/]]],
  ["201 nodes", { any: Array.from({ length: 200 }, () => leaf) }, [["rule", /at most 200 conditions and groups; this one has 201/]]],
  ["a tier the program lacks", { attr: "tier", op: "gte", value: "platinum" }, [["rule.value", /No tier platinum in the program \(basic, silver, gold, vip\)/]]],
  ["a segment that does not exist", { all: [leaf, { attr: "inSegment", op: "in", value: ["$goldPlus", "seg_nope"] }] }, [["rule.all.1.value.1", /No segment seg_nope/]]],
  ["a partner that does not exist", { attr: "boughtAtPartner", op: "eq", value: "prt_nope" }, [["rule.value", /No partner prt_nope/]]],
  ["an undeclared custom attribute", { attr: "custom.shoe_size", op: "eq", value: 42 }, [["rule.attr", /No custom attribute shoe_size is declared/]]],
  ["a custom attribute key out of pattern", { attr: "custom.Shoe-Size", op: "eq", value: 42 }, [["rule.attr", /custom.<key>: a lower-case letter/]]],
  ["an order comparison on a custom enum", { attr: "custom.marital_status", op: "gt", value: "single" }, [["rule.op", /gt does not apply to custom.marital_status/]]],
  ["a custom enum value not declared", { attr: "custom.marital_status", op: "eq", value: "complicated" }, [["rule.value", /Expected one of single, married, divorced/]]],
  ["text for a custom number", { attr: "custom.children", op: "gte", value: "two" }, [["rule.value", /Expected a number/]]],
  [
    "more values than one D1 statement binds",
    { any: [{ attr: "age", op: "in", value: Array.from({ length: 25 }, (_, i) => i) }, { attr: "region", op: "in", value: Array.from({ length: 50 }, (_, i) => `r${i}`) }] },
    [["rule", /binds 100 values into one SQL statement; at most 90/]],
  ],
  [
    "several problems at once, each at its own path",
    { all: [{ attr: "colour", op: "eq", value: 1 }, { any: [{ attr: "age", op: "gte", value: -1 }, { not: { attr: "gender", op: "lte", value: "male" } }] }] },
    [
      ["rule.all.0.attr", /Unknown attribute/],
      ["rule.all.1.any.0.value", /Expected an integer 0–150/],
      ["rule.all.1.any.1.not.op", /lte does not apply to gender/],
    ],
  ],
];

describe("invalid rules", () => {
  it.each(invalid)("refuses %s", async (_, rule, errors) => {
    const body = rule === undefined ? {} : { rule: JSON.parse(JSON.stringify(rule), (_k, v: unknown) => resolve(v)) };
    for (const path of ["/v1/segments/preview", "/v1/segments"]) {
      const res = await base.t.call("POST", path, { body: path === "/v1/segments" ? { name: "bad", ...body } : body });
      expect(res.status, await res.clone().text()).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe("validation_failed");
      expect(problem.errors?.map((e) => e.field)).toEqual(errors.map(([field]) => field));
      errors.forEach(([, message], i) => expect(problem.errors![i]!.message).toMatch(message));
    }
  });

  it("saves nothing when it refuses", async () => {
    const before = base.t.database.sqlite.prepare("SELECT COUNT(*) AS n FROM segments").get() as { n: number };
    await expectStatus(await base.t.call("POST", "/v1/segments", { body: { name: "bad", rule: { attr: "colour", op: "eq", value: 1 } } }), 400);
    expect(base.t.database.sqlite.prepare("SELECT COUNT(*) AS n FROM segments").get()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// inSegment and cycles.

describe("inSegment", () => {
  it("refuses a segment that would contain itself, directly or through others, naming the chain", async () => {
    const { t, goldPlus } = base;
    const mid = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "Gold+ over 29", rule: { all: [{ attr: "inSegment", op: "eq", value: goldPlus }, { attr: "age", op: "gte", value: 30 }] } } }), 201);
    const top = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "Top", rule: { attr: "inSegment", op: "eq", value: mid.id } } }), 201);
    expect([mid.memberCount, top.memberCount]).toEqual([2, 2]);

    const self = await json<Problem>(await t.call("PATCH", `/v1/segments/${goldPlus}`, { body: { rule: { attr: "inSegment", op: "eq", value: goldPlus } } }), 400);
    expect(self.errors).toEqual([{ field: "rule.value", message: `A cycle: ${goldPlus} → ${goldPlus} (a segment cannot contain itself, directly or through others)` }]);

    const through = await json<Problem>(
      await t.call("PATCH", `/v1/segments/${goldPlus}`, { body: { rule: { all: [{ attr: "tier", op: "gte", value: "gold" }, { attr: "inSegment", op: "nin", value: [base.young, top.id] }] } } }),
      400,
    );
    expect(through.errors).toEqual([{ field: "rule.all.1.value.1", message: `A cycle: ${goldPlus} → ${top.id} → ${mid.id} → ${goldPlus} (a segment cannot contain itself, directly or through others)` }]);
    // Nothing changed.
    expect(await json<{ rule: unknown; memberCount: number }>(await t.call("GET", `/v1/segments/${goldPlus}`), 200)).toMatchObject({ rule: { attr: "tier", op: "gte", value: "gold" }, memberCount: 2 });
  });

  it("refreshSegments refreshes each segment after those it refers to, in one pass", async () => {
    const t = await createTestApp();
    const [a, b] = [await givenMember(t, { phone: null }), await givenMember(t, { phone: null })];
    // The outer segment is older: by id alone it would be refreshed first, against stale members.
    const outer = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "outer", rule: { attr: "tier", op: "eq", value: "vip" } } }), 201);
    const gold = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "gold", rule: { attr: "tier", op: "eq", value: "gold" } } }), 201);
    await json(await t.call("PATCH", `/v1/segments/${outer.id}`, { body: { rule: { attr: "inSegment", op: "eq", value: gold.id } } }), 200);
    expect(outer.id < gold.id).toBe(true);
    t.database.sqlite.prepare("UPDATE members SET tier = 'gold' WHERE id IN (?, ?)").run(a.id, b.id);
    const result = await refreshSegments(t.deps);
    expect(result.refreshed.map((r) => [r.segmentId, r.entered, r.memberCount])).toEqual([
      [gold.id, 2, 2],
      [outer.id, 2, 2],
    ]);
    expect(result.skipped).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Refresh: enter and leave, recorded once.

describe("refresh", () => {
  it("records who enters and leaves as interactions, and a second refresh changes nothing", async () => {
    const { t, ids } = base;
    const db = t.database.sqlite;
    const segment = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "300 points or more", rule: { attr: "balance", op: "gte", value: 300 } } }), 201);
    const events = () =>
      (db.prepare("SELECT member_id AS memberId, kind, channel FROM interactions WHERE reference = ? ORDER BY rowid").all(segment.id) as Array<{ memberId: string; kind: string; channel: string }>).map(
        (e) => `${base.nameOf.get(e.memberId)} ${e.kind} ${e.channel}`,
      );
    expect(segment.memberCount).toBe(2);
    expect(events().sort()).toEqual(["ana segment_enter system", "dan segment_enter system"]);

    await expectStatus(await t.call("POST", `/v1/members/${ids.ben}/adjustments`, { body: { points: 100, reason: "goodwill gesture" } }), 201);
    await expectStatus(await t.call("POST", `/v1/members/${ids.dan}/adjustments`, { body: { points: -900, reason: "correction" } }), 201);
    const refreshed = await json<{ entered: number; left: number; memberCount: number }>(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200);
    expect(refreshed).toMatchObject({ entered: 1, left: 1, memberCount: 2 });
    expect(events().slice(2)).toEqual(["ben segment_enter system", "dan segment_leave system"]);

    const again = await json<{ entered: number; left: number; memberCount: number }>(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200);
    expect(again).toMatchObject({ entered: 0, left: 0, memberCount: 2 });
    expect(events()).toHaveLength(4);

    const page = await json<{ items: Array<{ memberId: string; enteredAt: string }> }>(await t.call("GET", `/v1/segments/${segment.id}/members?limit=100`), 200);
    expect(page.items.map((m) => base.nameOf.get(m.memberId)).sort()).toEqual(["ana", "ben"]);
    // Put back for the other cases.
    await expectStatus(await t.call("POST", `/v1/members/${ids.ben}/adjustments`, { body: { points: -100, reason: "put back" } }), 201);
    await expectStatus(await t.call("POST", `/v1/members/${ids.dan}/adjustments`, { body: { points: 900, reason: "put back" } }), 201);
  });

  it("writes enough changes for several units exactly: each member enters and leaves once, and the count stays the rows", async () => {
    const t = await createTestApp();
    const db = t.database.sqlite;
    const enrol = (ids: string[], region: string) =>
      db.prepare("INSERT INTO members (id, name, email, region, created_at, updated_at) SELECT value, 'unit', value || '@example.com', ?, ?, ? FROM json_each(?)").run(region, T0, T0, JSON.stringify(ids));
    // Two units and part of a third; newcomers come between them, and some members leave.
    const first = Array.from({ length: 2 * UNIT_SIZE + 345 }, (_, i) => `mem_U${String(i).padStart(5, "0")}`);
    enrol(first, "서울 중구");
    const segment = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "중구", rule: { attr: "region", op: "eq", value: "서울 중구" } } }), 201);
    const events = (kind: string) => db.prepare("SELECT member_id FROM interactions WHERE kind = ? AND reference = ?").pluck().all(kind, segment.id) as string[];
    const rows = () => db.prepare("SELECT member_id FROM segment_members WHERE segment_id = ? ORDER BY member_id").pluck().all(segment.id) as string[];
    expect(segment.memberCount).toBe(first.length);
    expect(rows()).toEqual(first);
    expect(new Set(events("segment_enter")).size).toBe(first.length);

    // Every third member moves away; newcomers sort in between the members who stay.
    const movers = first.filter((_, i) => i % 3 === 0);
    db.prepare("UPDATE members SET region = '부산 중구' WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(movers));
    const newcomers = Array.from({ length: UNIT_SIZE + 200 }, (_, i) => `mem_U${String(i * 2).padStart(5, "0")}n`);
    enrol(newcomers, "서울 중구");
    const refreshed = await json<{ entered: number; left: number; memberCount: number }>(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200);
    expect(refreshed).toMatchObject({ entered: newcomers.length, left: movers.length, memberCount: first.length - movers.length + newcomers.length });
    expect(rows()).toEqual([...first.filter((_, i) => i % 3 !== 0), ...newcomers].sort());
    expect(events("segment_leave").sort()).toEqual(movers);
    expect(events("segment_enter")).toHaveLength(first.length + newcomers.length);
    expect(new Set(events("segment_enter")).size).toBe(first.length + newcomers.length);
    expect(db.prepare("SELECT COUNT(DISTINCT id) FROM interactions WHERE reference = ?").pluck().get(segment.id)).toBe(first.length + newcomers.length + movers.length);

    expect(await json(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 0, memberCount: rows().length });
  });

  it("lets a member whose account closes leave at the next refresh", async () => {
    const t = await createTestApp();
    const m = await givenMember(t, { phone: null });
    const segment = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "everyone basic", rule: { attr: "tier", op: "eq", value: "basic" } } }), 201);
    expect(segment.memberCount).toBe(1);
    t.database.sqlite.prepare("UPDATE members SET status = 'closed' WHERE id = ?").run(m.id);
    expect(await json(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 1, memberCount: 0 });
  });

  it("answers 409 while another refresh holds the segment, and goes ahead once its lease runs out", async () => {
    const t = await createTestApp();
    await givenMember(t, { phone: null });
    const segment = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "basic", rule: { attr: "tier", op: "eq", value: "basic" } } }), 201);
    t.database.sqlite.prepare("UPDATE segments SET refresh_lease_until = ? WHERE id = ?").run(t.clock.now + 60_000, segment.id);
    const busy = await json<Problem>(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 409);
    expect(busy.code).toBe("concurrent_update");
    await json<Problem>(await t.call("PATCH", `/v1/segments/${segment.id}`, { body: { rule: { attr: "tier", op: "eq", value: "gold" } } }), 409);
    expect((await refreshSegments(t.deps)).skipped).toEqual([segment.id]);
    t.clock.advance(60_001);
    expect(await json(await t.call("POST", `/v1/segments/${segment.id}/refresh`), 200)).toMatchObject({ entered: 0, left: 0, memberCount: 1 });
  });

  it("answers 404 for a segment that does not exist", async () => {
    for (const [method, path] of [["GET", "/v1/segments/seg_nope"], ["GET", "/v1/segments/seg_nope/members"], ["POST", "/v1/segments/seg_nope/refresh"]] as const) {
      expect((await json<Problem>(await base.t.call(method, path), 404)).code).toBe("not_found");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Preview equals materialised membership on the demo program.

describe("on the demo program", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await seedDemo(t.deps);
    // Scores as a recompute would leave them, deterministic per member; every seventh unscored.
    t.database.sqlite.exec(`
      INSERT INTO member_scores (member_id, r, f, m, rfm_segment, p_alive, clv_minor, lifecycle, scored_at)
      SELECT id, rowid % 5 + 1, (rowid / 5) % 5 + 1, (rowid / 25) % 5 + 1,
             CASE rowid % 4 WHEN 0 THEN 'champions' WHEN 1 THEN 'loyal' WHEN 2 THEN 'at_risk' ELSE 'lost' END,
             (rowid % 100) / 100.0, (rowid % 50) * 10000,
             CASE rowid % 3 WHEN 0 THEN 'active' WHEN 1 THEN 'vip' ELSE 'dormant' END, ${T0}
      FROM members WHERE rowid % 7 <> 0`);
  });

  const rules: Array<[string, unknown]> = [
    ["gold and above", { attr: "tier", op: "gte", value: "gold" }],
    ["spent ₩50,000 in 30 days", { attr: "spendWithin", days: 30, op: "gte", value: 50_000 }],
    ["women 30–45 who take email", { all: [{ attr: "gender", op: "eq", value: "female" }, { attr: "age", op: "between", value: [30, 45] }, { attr: "consent.email", op: "eq", value: true }] }],
    ["champions or loyal, not dormant", { all: [{ attr: "rfm.segment", op: "in", value: ["champions", "loyal"] }, { not: { attr: "lifecycle", op: "eq", value: "dormant" } }] }],
    ["lapsed cinema-goers", { all: [{ attr: "boughtInCategory", op: "eq", value: "ticket" }, { attr: "daysSinceLastPurchase", op: "gte", value: 14 }] }],
    ["unscored or low pAlive", { any: [{ not: { attr: "pAlive", op: "exists" } }, { attr: "pAlive", op: "lt", value: 0.2 }] }],
  ];

  it.each(rules)("%s: the preview's count is the membership created", async (_, rule) => {
    const preview = await json<Preview>(await t.call("POST", "/v1/segments/preview", { body: { rule } }), 200);
    expect(preview.count).toBeGreaterThan(0);
    expect(preview.count).toBeLessThan(DEMO_MEMBER_COUNT);
    expect(preview.sample).toHaveLength(Math.min(20, preview.count));
    const segment = await json<Segment>(await t.call("POST", "/v1/segments", { body: { name: "demo", rule } }), 201);
    expect(segment.memberCount).toBe(preview.count);
    const members: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const page: { items: Array<{ memberId: string }>; nextCursor: string | null } = await json(await t.call("GET", `/v1/segments/${segment.id}/members?limit=100${cursor ? `&cursor=${cursor}` : ""}`), 200);
      members.push(...page.items.map((m) => m.memberId));
      if (!(cursor = page.nextCursor)) break;
    }
    expect(members).toHaveLength(preview.count);
    // The sample is the newest members, as the members list starts.
    expect(members.slice(0, 20)).toEqual(preview.sample.map((s) => s.memberId));
    const entered = t.database.sqlite.prepare("SELECT COUNT(*) AS n FROM interactions WHERE kind = 'segment_enter' AND reference = ?").get(segment.id) as { n: number };
    expect(entered.n).toBe(preview.count);
  });

  it("agrees with a plain scan for gold-and-above members who spent ₩50,000 in 30 days", async () => {
    const rule = { all: [{ attr: "tier", op: "in", value: ["gold", "vip"] }, { attr: "spendWithin", days: 30, op: "gte", value: 50_000 }] };
    const since = t.clock.now - 30 * DAY_MS;
    const expected = t.database.sqlite
      .prepare(
        `SELECT m.id FROM members m WHERE m.status = 'active' AND m.tier IN ('gold', 'vip')
           AND (SELECT COALESCE(SUM(amount_minor), 0) FROM interactions WHERE member_id = m.id AND kind = 'purchase' AND occurred_at >= ?) >= 50000`,
      )
      .all(since) as Array<{ id: string }>;
    expect(expected.length).toBeGreaterThan(0);
    expect((await json<Preview>(await t.call("POST", "/v1/segments/preview", { body: { rule } }), 200)).count).toBe(expected.length);
  });
});

// ---------------------------------------------------------------------------------------------
// Custom attributes.

describe("custom attributes", () => {
  it("lists the declarations", async () => {
    const list = await json<{ items: Array<{ key: string; type: string; values: string[] | null }> }>(await base.t.call("GET", "/v1/custom-attributes"), 200);
    expect(list.items.map((i) => [i.key, i.type, i.values])).toEqual([
      ["children", "number", null],
      ["marital_status", "enum", ["single", "married", "divorced"]],
      ["newsletter", "boolean", null],
      ["occupation", "text", null],
    ]);
  });

  it.each<[string, string, unknown, string, RegExp]>([
    ["an enum without values", "pets", { type: "enum" }, "values", /Required for an enum/],
    ["values on a number", "height", { type: "number", values: ["1"] }, "values", /Only an enum has allowed values/],
    ["a new type for a declared key", "children", { type: "text" }, "type", /children is declared as number; a key keeps its type/],
    ["dropping an enum value members hold", "marital_status", { type: "enum", values: ["single", "divorced"] }, "values", /Still held: married \(3 members\)/],
  ])("refuses %s", async (_, key, body, field, message) => {
    const problem = await json<Problem>(await base.t.call("PUT", `/v1/custom-attributes/${key}`, { body }), 400);
    expect(problem.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
  });

  it("lets an enum gain values and drop those nobody holds", async () => {
    const { t } = base;
    const grown = await json<{ values: string[] }>(await t.call("PUT", "/v1/custom-attributes/marital_status", { body: { type: "enum", values: ["single", "married", "divorced", "widowed"] } }), 200);
    expect(grown.values).toContain("widowed");
    await json(await t.call("PUT", "/v1/custom-attributes/marital_status", { body: { type: "enum", values: ["single", "married", "divorced"] } }), 200);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["an undeclared key", { shoe_size: 42 }, "attributes.shoe_size", /No custom attribute shoe_size is declared/],
    ["text for a number", { children: "two" }, "attributes.children", /Expected a number/],
    ["a value outside the enum", { marital_status: "complicated" }, "attributes.marital_status", /Expected one of single, married, divorced/],
    ["a number for a boolean", { newsletter: 1 }, "attributes.newsletter", /Expected true or false/],
    ["blank text", { occupation: "  " }, "attributes.occupation", /Expected non-empty text/],
  ])("refuses setting %s, and sets nothing", async (_, attributes, field, message) => {
    const { t, ids } = base;
    const problem = await json<Problem>(await t.call("PUT", `/v1/members/${ids.eve}/attributes`, { body: { attributes } }), 400);
    expect(problem.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    expect(await json(await t.call("GET", `/v1/members/${ids.eve}/attributes`), 200)).toEqual({ memberId: ids.eve, attributes: {} });
  });

  it("sets, reads, filters on and removes values", async () => {
    const { t, ids } = base;
    const set = await json(await t.call("PUT", `/v1/members/${ids.eve}/attributes`, { body: { attributes: { occupation: "student", newsletter: false } } }), 200);
    expect(set).toEqual({ memberId: ids.eve, attributes: { newsletter: false, occupation: "student" } });
    expect(await matches({ attr: "custom.newsletter", op: "eq", value: false })).toEqual(["ben", "eve"]);
    await json(await t.call("PUT", `/v1/members/${ids.eve}/attributes`, { body: { attributes: { occupation: null, newsletter: null } } }), 200);
    expect(await json(await t.call("GET", `/v1/members/${ids.eve}/attributes`), 200)).toEqual({ memberId: ids.eve, attributes: {} });
    expect(await matches({ attr: "custom.newsletter", op: "eq", value: false })).toEqual(["ben"]);
    expect(await json(await t.call("GET", `/v1/members/${ids.ana}/attributes`), 200)).toEqual({
      memberId: ids.ana,
      attributes: { children: 2, marital_status: "married", newsletter: true, occupation: "engineer" },
    });
  });

  it("answers 404 for a member that does not exist", async () => {
    await json(await base.t.call("PUT", "/v1/members/mem_nope/attributes", { body: { attributes: { children: 1 } } }), 404);
    await json(await base.t.call("GET", "/v1/members/mem_nope/attributes"), 404);
  });
});
