/** Partners (contacts, settlement rates, suspension) and their stores, through the API. */
import { describe, expect, it } from "vitest";
import type { Partner, Store } from "../../src/routes/partners/schemas.ts";
import { BOOTSTRAP_ADMIN_ID } from "../../src/domain/principal.ts";
import { partnerTerms } from "../../src/services/partners/partners.ts";
import { activeStoreOf } from "../../src/services/partners/stores.ts";
import { AppError } from "../../src/errors.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, givenStaff } from "../helpers/factories.ts";

interface Problem {
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: Array<{ field: string; message: string }>;
  [key: string]: unknown;
}

interface AuditRow {
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  reason: string | null;
}

const MINUTE = 60_000;

async function problem(res: Response, status: number): Promise<Problem> {
  await expectStatus(res, status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as Problem;
}

async function jsonOf<T>(res: Response, status: number): Promise<T> {
  return (await (await expectStatus(res, status)).json()) as T;
}

const fieldsOf = (p: Problem) => [...new Set(p.errors?.map((e) => e.field))].sort();

function auditFor(t: TestApp, targetId: string): AuditRow[] {
  return t.database.sqlite
    .prepare("select actor_type, actor_id, action, target_type, reason from audit_log where target_id = ? order by at, id")
    .all(targetId) as AuditRow[];
}

async function newPartner(t: TestApp, body: Record<string, unknown> = {}) {
  return jsonOf<Partner>(await t.call("POST", "/v1/partners", { body: { name: "별빛시네마 강남", category: "cinema", ...body } }), 201);
}

const patchPartner = (t: TestApp, id: string, body: unknown, token?: string) => t.call("PATCH", `/v1/partners/${id}`, { body, ...(token && { token }) });

describe("creating a partner", () => {
  it("keeps its contacts (email lowercased, phone in E.164) and settlement rates", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t, {
      contact: { name: "박지현", email: "Partners@CGV.Example", phone: "02-1234-5678" },
      settlement: { pointCostMilli: 1200, redemptionRateMilli: 900 },
    });
    const at = new Date(t.clock.now).toISOString();
    expect(partner).toEqual({
      id: expect.stringMatching(/^prt_/),
      name: "별빛시네마 강남",
      category: "cinema",
      status: "active",
      contact: { name: "박지현", email: "partners@cgv.example", phone: "+82212345678" },
      settlement: { pointCostMilli: 1200, redemptionRateMilli: 900 },
      createdAt: at,
      updatedAt: at,
    });
    expect(await jsonOf(await t.call("GET", `/v1/partners/${partner.id}`), 200)).toEqual(partner);
  });

  it("defaults to no contacts and ₩1 a point each way", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t);
    expect(partner.contact).toEqual({ name: null, email: null, phone: null });
    expect(partner.settlement).toEqual({ pointCostMilli: 1000, redemptionRateMilli: 1000 });
  });

  it("takes a mobile number written locally", async () => {
    const t = await createTestApp();
    expect((await newPartner(t, { contact: { phone: "010-2345-6789" } })).contact.phone).toBe("+821023456789");
  });

  it.each([
    ["an email that is not one", { contact: { email: "partners@" } }, ["contact.email"]],
    ["a phone that is no real number", { contact: { phone: "1234" } }, ["contact.phone"]],
    ["a phone of letters", { contact: { phone: "call the front desk" } }, ["contact.phone"]],
    ["a blank contact name", { contact: { name: "  " } }, ["contact.name"]],
    ["an unknown contact field", { contact: { fax: "02-1234-5679" } }, ["contact.fax"]],
    ["a negative rate", { settlement: { pointCostMilli: -1, redemptionRateMilli: 1000 } }, ["settlement.pointCostMilli"]],
    ["a fractional rate", { settlement: { pointCostMilli: 1000, redemptionRateMilli: 999.5 } }, ["settlement.redemptionRateMilli"]],
    ["a rate over 1,000,000", { settlement: { pointCostMilli: 1_000_001, redemptionRateMilli: 1000 } }, ["settlement.pointCostMilli"]],
    ["a rate as a string", { settlement: { pointCostMilli: "1000", redemptionRateMilli: 1000 } }, ["settlement.pointCostMilli"]],
    ["half the rates", { settlement: { pointCostMilli: 1000 } }, ["settlement.redemptionRateMilli"]],
  ])("refuses %s with a field error", async (_, body, fields) => {
    const t = await createTestApp();
    const p = await problem(await t.call("POST", "/v1/partners", { body: { name: "모퉁이커피", category: "cafe", ...body } }), 400);
    expect(p.code).toBe("validation_failed");
    expect(fieldsOf(p)).toEqual(fields);
    const all = (await (await t.call("GET", "/v1/partners")).json()) as { items: unknown[] };
    expect(all.items).toEqual([]);
  });

  it("accepts rates of 0 and of 1,000,000", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t, { settlement: { pointCostMilli: 0, redemptionRateMilli: 1_000_000 } });
    expect(partner.settlement).toEqual({ pointCostMilli: 0, redemptionRateMilli: 1_000_000 });
  });
});

describe("changing a partner", () => {
  it("changes name, category and the contact fields given, keeping the others", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t, { contact: { name: "박지현", email: "a@cgv.example", phone: "02-1234-5678" } });
    t.clock.advance(MINUTE);
    const updated = await jsonOf<Partner>(await patchPartner(t, partner.id, { name: "별빛시네마 강남점", category: "movies", contact: { email: "B@CGV.example", phone: null } }), 200);
    expect(updated).toEqual({
      ...partner,
      name: "별빛시네마 강남점",
      category: "movies",
      contact: { name: "박지현", email: "b@cgv.example", phone: null },
      updatedAt: new Date(t.clock.now).toISOString(),
    });
    expect(await jsonOf(await t.call("GET", `/v1/partners/${partner.id}`), 200)).toEqual(updated);
    expect(auditFor(t, partner.id).map((r) => [r.action, r.reason])).toEqual([
      ["partner.create", null],
      ["partner.update", "changed name, category, contact.email, contact.phone"],
    ]);
  });

  it("audits a change of settlement rates with the rates it replaces, and nothing when they stay", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t);
    const updated = await jsonOf<Partner>(await patchPartner(t, partner.id, { settlement: { pointCostMilli: 1500 } }), 200);
    expect(updated.settlement).toEqual({ pointCostMilli: 1500, redemptionRateMilli: 1000 });
    await expectStatus(await patchPartner(t, partner.id, { settlement: { pointCostMilli: 1200, redemptionRateMilli: 800 } }), 200);
    // The same rates again: no change, so no audit row.
    await expectStatus(await patchPartner(t, partner.id, { settlement: { pointCostMilli: 1200, redemptionRateMilli: 800 } }), 200);

    const rates = auditFor(t, partner.id).filter((r) => r.action === "partner.settlement_rates");
    expect(rates.map((r) => JSON.parse(r.reason!) as unknown)).toEqual([
      { from: { pointCostMilli: 1000, redemptionRateMilli: 1000 }, to: { pointCostMilli: 1500, redemptionRateMilli: 1000 } },
      { from: { pointCostMilli: 1500, redemptionRateMilli: 1000 }, to: { pointCostMilli: 1200, redemptionRateMilli: 800 } },
    ]);
    expect(rates[0]).toMatchObject({ actor_type: "admin", actor_id: BOOTSTRAP_ADMIN_ID, target_type: "partner" });
    expect(auditFor(t, partner.id).map((r) => r.action)).toEqual(["partner.create", "partner.settlement_rates", "partner.settlement_rates"]);
  });

  it("exposes the rates in force to the purchase path (partnerTerms)", async () => {
    const t = await createTestApp();
    const partner = await newPartner(t, { settlement: { pointCostMilli: 1100, redemptionRateMilli: 950 } });
    expect(await partnerTerms(t.deps, partner.id)).toMatchObject({ pointCostMilli: 1100, redemptionRateMilli: 950 });
    await expectStatus(await patchPartner(t, partner.id, { settlement: { redemptionRateMilli: 700 } }), 200);
    expect(await partnerTerms(t.deps, partner.id)).toMatchObject({ pointCostMilli: 1100, redemptionRateMilli: 700 });
    await expect(partnerTerms(t.deps, "prt_00000000000000000000000000")).rejects.toMatchObject({ code: "not_found" });
  });

  it.each([
    ["nothing to change", {}, ["json"]],
    ["an empty settlement", { settlement: {} }, ["settlement"]],
    ["a status not in the enum", { status: "closed" }, ["status"]],
    ["a phone that is no real number", { contact: { phone: "1234" } }, ["contact.phone"]],
    ["an email that is not one", { contact: { email: "x" } }, ["contact.email"]],
    ["a negative rate", { settlement: { redemptionRateMilli: -5 } }, ["settlement.redemptionRateMilli"]],
    ["only an id chosen by the client (an unknown field, and nothing left to change)", { id: "prt_mine" }, ["id", "json"]],
  ])("refuses %s with a field error and changes nothing", async (_, body, fields) => {
    const t = await createTestApp();
    const partner = await newPartner(t);
    const p = await problem(await patchPartner(t, partner.id, body), 400);
    expect(p.code).toBe("validation_failed");
    expect(fieldsOf(p)).toEqual(fields);
    expect(await jsonOf(await t.call("GET", `/v1/partners/${partner.id}`), 200)).toEqual(partner);
  });

  it("is a 404 for a partner that does not exist", async () => {
    const t = await createTestApp();
    expect((await problem(await patchPartner(t, "prt_00000000000000000000000000", { name: "x" }), 404)).code).toBe("not_found");
  });

  it("is for admins only: marketers and partner keys read but may not change it", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const marketer = await givenStaff(t, "marketer");
    const before = await jsonOf<Partner>(await t.call("GET", `/v1/partners/${partner.id}`), 200);
    expect(await jsonOf(await t.call("GET", `/v1/partners/${partner.id}`, { token: marketer.token }), 200)).toEqual(before);
    expect((await problem(await patchPartner(t, partner.id, { name: "x" }, marketer.token), 403)).code).toBe("forbidden");
    expect((await problem(await patchPartner(t, partner.id, { settlement: { pointCostMilli: 0 } }, partner.key), 403)).code).toBe("forbidden");
    expect(await jsonOf(await t.call("GET", `/v1/partners/${partner.id}`), 200)).toEqual(before);
  });
});

describe("suspending a partner", () => {
  it("refuses its API keys with 403 at once, and reactivating lets them through again", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const other = await givenPartner(t, "한빛서점 종로");
    const card = await givenCard(t, (await givenMember(t)).id);
    await expectStatus(await t.call("GET", `/v1/partners/${partner.id}`, { token: partner.key }), 200);

    const suspended = await jsonOf<Partner>(await patchPartner(t, partner.id, { status: "suspended" }), 200);
    expect(suspended.status).toBe("suspended");
    const refused = await problem(await t.call("GET", `/v1/partners/${partner.id}`, { token: partner.key }), 403);
    expect(refused).toMatchObject({ code: "forbidden", detail: expect.stringContaining("suspended") });
    expect((await problem(await t.call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: card.number } }), 403)).code).toBe("forbidden");
    expect((await problem(await t.call("GET", `/v1/partners/${partner.id}/stores`, { token: partner.key }), 403)).code).toBe("forbidden");
    // Public routes stay reachable with the refused key; other partners are untouched.
    await expectStatus(await t.call("GET", "/health", { token: partner.key }), 200);
    await expectStatus(await t.call("POST", "/v1/cards/verify", { token: other.key, body: { cardNumber: card.number } }), 200);
    // Staff still read and manage it.
    expect((await jsonOf<Partner>(await t.call("GET", `/v1/partners/${partner.id}`), 200)).status).toBe("suspended");

    await expectStatus(await patchPartner(t, partner.id, { status: "active" }), 200);
    await expectStatus(await t.call("GET", `/v1/partners/${partner.id}`, { token: partner.key }), 200);
    expect(auditFor(t, partner.id).map((r) => r.action)).toEqual(["partner.create", "partner.suspend", "partner.reactivate"]);
  });
});

describe("reading partners across tenants", () => {
  it("a partner key reads its own partner with contacts and rates; another partner is a 404 like an unknown id", async () => {
    const t = await createTestApp();
    const a = await givenPartner(t);
    const b = await givenPartner(t, "한빛서점 종로");
    await expectStatus(await patchPartner(t, a.id, { contact: { email: "a@partner.example" }, settlement: { pointCostMilli: 1300, redemptionRateMilli: 1000 } }), 200);
    const own = await jsonOf<Partner>(await t.call("GET", `/v1/partners/${a.id}`, { token: a.key }), 200);
    expect(own).toMatchObject({ id: a.id, contact: { email: "a@partner.example" }, settlement: { pointCostMilli: 1300 } });

    const other = await problem(await t.call("GET", `/v1/partners/${b.id}`, { token: a.key }), 404);
    const unknown = await problem(await t.call("GET", "/v1/partners/prt_00000000000000000000000000", { token: a.key }), 404);
    expect(other.code).toBe("not_found");
    const shape = (p: Problem, id: string) => ({ ...p, requestId: undefined, detail: p.detail.replace(id, "ID") });
    expect(shape(other, b.id)).toEqual(shape(unknown, "prt_00000000000000000000000000"));
  });
});

describe("stores", () => {
  const storesOf = (partnerId: string) => `/v1/partners/${partnerId}/stores`;
  const gangnam = { code: "GN-01", name: "별빛시네마 강남점", address: "서울 강남구 강남대로 438", latitude: 37.5006, longitude: 127.0264 };

  it("are created, read, listed and changed by admins, and audited", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const store = await jsonOf<Store>(await t.call("POST", storesOf(partner.id), { body: { ...gangnam, code: "  GN-01 " } }), 201);
    const at = new Date(t.clock.now).toISOString();
    expect(store).toEqual({ id: expect.stringMatching(/^sto_/), partnerId: partner.id, ...gangnam, status: "active", createdAt: at, updatedAt: at });
    expect(await jsonOf(await t.call("GET", `${storesOf(partner.id)}/${store.id}`), 200)).toEqual(store);

    const bare = await jsonOf<Store>(await t.call("POST", storesOf(partner.id), { body: { code: "HJ-02", name: "합정점" } }), 201);
    expect(bare).toMatchObject({ address: null, latitude: null, longitude: null, status: "active" });
    const page = await jsonOf<{ items: Store[]; nextCursor: string | null }>(await t.call("GET", storesOf(partner.id)), 200);
    expect(page).toEqual({ items: [bare, store], nextCursor: null });

    t.clock.advance(MINUTE);
    const moved = await jsonOf<Store>(
      await t.call("PATCH", `${storesOf(partner.id)}/${store.id}`, { body: { name: "강남 본점", address: null, latitude: 37.4979, longitude: 127.0276 } }),
      200,
    );
    expect(moved).toEqual({ ...store, name: "강남 본점", address: null, latitude: 37.4979, longitude: 127.0276, updatedAt: new Date(t.clock.now).toISOString() });
    const closed = await jsonOf<Store>(await t.call("PATCH", `${storesOf(partner.id)}/${store.id}`, { body: { status: "closed" } }), 200);
    expect(closed.status).toBe("closed");
    const cleared = await jsonOf<Store>(await t.call("PATCH", `${storesOf(partner.id)}/${store.id}`, { body: { latitude: null, longitude: null } }), 200);
    expect(cleared).toMatchObject({ latitude: null, longitude: null, status: "closed", code: "GN-01" });

    expect(auditFor(t, store.id).map((r) => [r.action, r.reason])).toEqual([
      ["store.create", null],
      ["store.update", "changed name, address, latitude, longitude"],
      ["store.update", "changed status"],
      ["store.update", "changed latitude, longitude"],
    ]);
  });

  it("refuse a code the partner already uses with 409 store_code_taken; another partner may use it", async () => {
    const t = await createTestApp();
    const a = await givenPartner(t);
    const b = await givenPartner(t, "한빛서점 종로");
    const first = await jsonOf<Store>(await t.call("POST", storesOf(a.id), { body: gangnam }), 201);
    const taken = await problem(await t.call("POST", storesOf(a.id), { body: { code: "GN-01", name: "another" } }), 409);
    expect(taken).toMatchObject({ code: "store_code_taken", storeId: first.id, errors: [{ field: "code" }] });
    await expectStatus(await t.call("POST", storesOf(b.id), { body: gangnam }), 201);
    // Codes are compared as given: another case is another code.
    await expectStatus(await t.call("POST", storesOf(a.id), { body: { code: "gn-01", name: "lower" } }), 201);
    expect((await jsonOf<{ items: unknown[] }>(await t.call("GET", storesOf(a.id)), 200)).items).toHaveLength(2);
  });

  it.each([
    ["a latitude over 90", { latitude: 90.5, longitude: 127 }, ["latitude"]],
    ["a latitude under -90", { latitude: -91, longitude: 127 }, ["latitude"]],
    ["a longitude over 180", { latitude: 37.5, longitude: 180.01 }, ["longitude"]],
    ["a longitude under -180", { latitude: 37.5, longitude: -200 }, ["longitude"]],
    ["a latitude as a string", { latitude: "37.5", longitude: 127 }, ["latitude"]],
    ["a latitude without a longitude", { latitude: 37.5 }, ["longitude"]],
    ["a longitude without a latitude", { longitude: 127 }, ["latitude"]],
    ["a latitude with a null longitude", { latitude: 37.5, longitude: null }, ["longitude"]],
  ])("refuse %s with a field error", async (_, coordinates, fields) => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const created = await problem(await t.call("POST", storesOf(partner.id), { body: { code: "GN-01", name: "강남점", ...coordinates } }), 400);
    expect(fieldsOf(created)).toEqual(fields);
    const store = await jsonOf<Store>(await t.call("POST", storesOf(partner.id), { body: gangnam }), 201);
    const patched = await problem(await t.call("PATCH", `${storesOf(partner.id)}/${store.id}`, { body: coordinates }), 400);
    expect(fieldsOf(patched)).toEqual(fields);
    expect(await jsonOf(await t.call("GET", `${storesOf(partner.id)}/${store.id}`), 200)).toEqual(store);
  });

  it.each([
    ["a code with a space inside", { code: "GN 01", name: "강남점" }, ["code"]],
    ["a code over 32 characters", { code: "G".repeat(33), name: "강남점" }, ["code"]],
    ["a missing code", { name: "강남점" }, ["code"]],
    ["a blank name", { code: "GN-01", name: " " }, ["name"]],
    ["a status", { code: "GN-01", name: "강남점", status: "closed" }, ["status"]],
  ])("refuse %s at creation", async (_, body, fields) => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    expect(fieldsOf(await problem(await t.call("POST", storesOf(partner.id), { body }), 400))).toEqual(fields);
  });

  it("are 404 under a partner that does not exist, or under the wrong partner", async () => {
    const t = await createTestApp();
    const a = await givenPartner(t);
    const b = await givenPartner(t, "한빛서점 종로");
    const store = await jsonOf<Store>(await t.call("POST", storesOf(a.id), { body: gangnam }), 201);
    expect((await problem(await t.call("POST", storesOf("prt_00000000000000000000000000"), { body: gangnam }), 404)).code).toBe("not_found");
    expect((await problem(await t.call("GET", `${storesOf(b.id)}/${store.id}`), 404)).code).toBe("not_found");
    expect((await problem(await t.call("PATCH", `${storesOf(b.id)}/${store.id}`, { body: { name: "x" } }), 404)).code).toBe("not_found");
    expect((await problem(await t.call("GET", `${storesOf(a.id)}/sto_00000000000000000000000000`), 404)).code).toBe("not_found");
  });

  it("a partner key reads its own stores only: another partner's are a 404", async () => {
    const t = await createTestApp();
    const a = await givenPartner(t);
    const b = await givenPartner(t, "한빛서점 종로");
    const own = await jsonOf<Store>(await t.call("POST", storesOf(a.id), { body: gangnam }), 201);
    const theirs = await jsonOf<Store>(await t.call("POST", storesOf(b.id), { body: gangnam }), 201);
    expect(await jsonOf(await t.call("GET", `${storesOf(a.id)}/${own.id}`, { token: a.key }), 200)).toEqual(own);
    expect((await jsonOf<{ items: Store[] }>(await t.call("GET", storesOf(a.id), { token: a.key }), 200)).items).toEqual([own]);

    expect((await problem(await t.call("GET", storesOf(b.id), { token: a.key }), 404)).code).toBe("not_found");
    expect((await problem(await t.call("GET", `${storesOf(b.id)}/${theirs.id}`, { token: a.key }), 404)).code).toBe("not_found");
    // Its own partner's path with the other's store id: not its store either.
    expect((await problem(await t.call("GET", `${storesOf(a.id)}/${theirs.id}`, { token: a.key }), 404)).code).toBe("not_found");
    // And it may not manage stores, not even its own.
    expect((await problem(await t.call("POST", storesOf(a.id), { token: a.key, body: { code: "X-1", name: "x" } }), 403)).code).toBe("forbidden");
    expect((await problem(await t.call("PATCH", `${storesOf(a.id)}/${own.id}`, { token: a.key, body: { status: "closed" } }), 403)).code).toBe("forbidden");
  });

  it("marketers read stores but may not create or change them", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const marketer = await givenStaff(t, "marketer");
    const store = await jsonOf<Store>(await t.call("POST", storesOf(partner.id), { body: gangnam }), 201);
    expect(await jsonOf(await t.call("GET", `${storesOf(partner.id)}/${store.id}`, { token: marketer.token }), 200)).toEqual(store);
    expect((await jsonOf<{ items: Store[] }>(await t.call("GET", storesOf(partner.id), { token: marketer.token }), 200)).items).toEqual([store]);
    expect((await problem(await t.call("POST", storesOf(partner.id), { token: marketer.token, body: { code: "X-1", name: "x" } }), 403)).code).toBe("forbidden");
    expect((await problem(await t.call("PATCH", `${storesOf(partner.id)}/${store.id}`, { token: marketer.token, body: { status: "closed" } }), 403)).code).toBe("forbidden");
    expect(await jsonOf(await t.call("GET", `${storesOf(partner.id)}/${store.id}`), 200)).toEqual(store);
  });
});

describe("activeStoreOf (for the purchase path)", () => {
  /** The field error a purchase naming this store would get. */
  async function refusal(run: Promise<unknown>) {
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "validation_failed" });
    return (error as AppError).extras.errors;
  }

  it("returns the partner's open store, and refuses another partner's, a closed or an unknown one on storeId", async () => {
    const t = await createTestApp();
    const a = await givenPartner(t);
    const b = await givenPartner(t, "한빛서점 종로");
    const store = await jsonOf<Store>(await t.call("POST", `/v1/partners/${a.id}/stores`, { body: { code: "GN-01", name: "강남점" } }), 201);
    expect(await activeStoreOf(t.deps, a.id, store.id)).toMatchObject({ id: store.id, partnerId: a.id, code: "GN-01", status: "active" });

    expect(await refusal(activeStoreOf(t.deps, b.id, store.id))).toEqual([{ field: "storeId", message: "No such store at this partner" }]);
    expect(await refusal(activeStoreOf(t.deps, a.id, "sto_00000000000000000000000000"))).toEqual([{ field: "storeId", message: "No such store at this partner" }]);
    await expectStatus(await t.call("PATCH", `/v1/partners/${a.id}/stores/${store.id}`, { body: { status: "closed" } }), 200);
    expect(await refusal(activeStoreOf(t.deps, a.id, store.id))).toEqual([{ field: "storeId", message: "This store is closed" }]);
  });
});
