/**
 * Every list endpoint pages by cursor: found from the OpenAPI document (any GET whose 200 body has
 * items and nextCursor), then walked with limit=1 to the end — nothing repeated, nothing skipped.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, givenStaff, memberToken, purchase } from "../helpers/factories.ts";

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string; properties?: Record<string, unknown> } }> }>;
}

/** Every list endpoint, as the document must show them. */
const LISTS = [
  "/v1/admin/signing-keys",
  "/v1/members",
  "/v1/members/{memberId}/cards",
  "/v1/members/{memberId}/interactions",
  "/v1/members/{memberId}/ledger",
  "/v1/offers",
  "/v1/outbox",
  "/v1/partners",
  "/v1/partners/{partnerId}/keys",
  "/v1/partners/{partnerId}/stores",
  "/v1/segments",
  "/v1/segments/{segmentId}/members",
  "/v1/staff",
];

let t: TestApp;
const paths: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  const a = await givenMember(t);
  const b = await givenMember(t);
  const card = await givenCard(t, a.id);
  const replacement = (await (await expectStatus(await t.call("POST", `/v1/cards/${card.number}/replace`), 201)).json()) as { number: string };
  await memberToken(t, a);
  await memberToken(t, b);
  const partner = await givenPartner(t);
  await givenPartner(t, "모퉁이커피");
  await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS 2" } }), 201);
  for (const code of ["GN-01", "HD-02", "JR-03"]) await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/stores`, { body: { code, name: `매장 ${code}` } }), 201);
  for (const name of ["10%", "₩1,000", "free drink"]) await expectStatus(await t.call("POST", "/v1/offers", { body: { name, reward: { kind: "amount", amountMinor: 1_000 } } }), 201);
  await givenStaff(t, "marketer");
  await givenStaff(t, "admin");
  await expectStatus(await t.call("POST", "/v1/admin/signing-keys/rotate"), 201);
  for (let i = 0; i < 3; i++) await expectStatus(await purchase(t, partner, replacement, { amountMinor: 5_000 }), 201);
  // Two segments, each with both members (both basic).
  const segments: string[] = [];
  for (const name of ["basic", "basic too"]) {
    const res = await expectStatus(await t.call("POST", "/v1/segments", { body: { name, rule: { attr: "tier", op: "eq", value: "basic" } } }), 201);
    segments.push(((await res.json()) as { id: string }).id);
  }
  Object.assign(paths, { memberId: a.id, partnerId: partner.id, segmentId: segments[0] });
});

async function listEndpoints(): Promise<string[]> {
  const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  };
  const found: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    const schema = ops.get?.responses?.["200"]?.content?.["application/json"]?.schema;
    const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split("/").pop()!] : schema;
    if (resolved?.properties && "items" in resolved.properties && "nextCursor" in resolved.properties) found.push(path);
  }
  return found.sort();
}

describe("cursor pagination", () => {
  it("covers every list endpoint in the document", async () => {
    expect(await listEndpoints()).toEqual(LISTS);
  });

  it.each(LISTS)("%s walks page by page to the end", async (template) => {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => paths[name]!);
    const everything = (await (await expectStatus(await t.call("GET", `${path}?limit=100`), 200)).json()) as { items: unknown[]; nextCursor: string | null };
    expect(everything.items.length).toBeGreaterThanOrEqual(2);
    expect(everything.nextCursor).toBeNull();

    const walked: unknown[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=1&cursor=${encodeURIComponent(cursor)}` : "limit=1";
      const page = (await (await expectStatus(await t.call("GET", `${path}?${query}`), 200)).json()) as { items: unknown[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(1);
      walked.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(everything.items);

    for (const limit of [0, 101]) {
      const res = await t.call("GET", `${path}?limit=${limit}`);
      expect(res.status).toBe(400);
    }
  });
});
