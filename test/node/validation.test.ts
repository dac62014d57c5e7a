/**
 * Validation errors, table-driven: every route that takes a body, a query or path params gets a
 * table of bad inputs, each a 400 problem+json naming exactly the failing fields. Then what
 * every body route does with bodies that are not JSON objects, the body limit, and a sweep of
 * hostile inputs over every operation in the OpenAPI document: none may yield a 5xx.
 *
 * The operation lists come from the generated document, so a new route is swept, size-limited
 * and body-checked without an edit here, and a new route with inputs but no table fails.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Problem } from "../../src/errors.ts";
import { ADMIN_TOKEN, createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { defaultProgram } from "../../src/domain/program.ts";
import { INGEST_BODY_LIMIT_BYTES } from "../../src/routes/customers/interactions.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, memberToken, purchase } from "../helpers/factories.ts";

// ---------------------------------------------------------------------------------------------
// The OpenAPI document, read once to build the tables below.

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Operation {
  parameters?: Array<{ name: string; in: "path" | "query" | "header" | "cookie" }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const doc = await (async () => {
  const t = await createTestApp();
  return (await (await t.call("GET", "/openapi.json", { token: null })).json()) as OpenApiDoc;
})();

const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
);
const pathParamsOf = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
const queryParamsOf = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
const withBody = operations.filter((o) => o.op.requestBody?.content["application/json"]);
const paged = operations.filter((o) => queryParamsOf(o.op).includes("limit"));

/** Every property name a body schema can have, through refs and unions. */
function propertiesOf(schema: Schema | undefined, seen = new Set<string>()): string[] {
  if (!schema) return [];
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    if (seen.has(name)) return [];
    seen.add(name);
    return propertiesOf(doc.components.schemas[name], seen);
  }
  const nested = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])].flatMap((s) => propertiesOf(s, seen));
  return [...new Set([...Object.keys(schema.properties ?? {}), ...nested])];
}

// ---------------------------------------------------------------------------------------------
// The world: one member with a card, one partner with a key, and a member token.

interface World {
  t: TestApp;
  member: { id: string; email: string | null };
  card: { number: string };
  partner: { id: string; key: string; keyId: string };
  memberToken: string;
  /** A purchase the partner recorded on the card. */
  purchaseId: string;
  /** A store of the partner. */
  storeId: string;
  /** An offer of the partner. */
  offerId: string;
  /** A segment (of gold members). */
  segmentId: string;
}

async function makeWorld(): Promise<World> {
  const t = await createTestApp();
  // Email only, so PATCH {email: null} has nothing left to reach the member by.
  const member = await givenMember(t, { phone: null });
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  const recorded = await expectStatus(await purchase(t, partner, card, { amountMinor: 10_000 }), 201);
  const { purchaseId } = (await recorded.json()) as { purchaseId: string };
  const store = await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/stores`, { body: { code: "GN-01", name: "별빛시네마 강남점" } }), 201);
  const { id: storeId } = (await store.json()) as { id: string };
  const offer = await expectStatus(await t.call("POST", "/v1/offers", { body: { partnerId: partner.id, name: "10% off", reward: { kind: "percent", percentBps: 1_000 } } }), 201);
  const { id: offerId } = (await offer.json()) as { id: string };
  const segment = await expectStatus(await t.call("POST", "/v1/segments", { body: { name: "Gold", rule: { attr: "tier", op: "eq", value: "gold" } } }), 201);
  const { id: segmentId } = (await segment.json()) as { id: string };
  await expectStatus(await t.call("PUT", "/v1/custom-attributes/marital_status", { body: { type: "enum", values: ["single", "married"] } }), 200);
  return { t, member, card, partner, memberToken: await memberToken(t, member), purchaseId, storeId, offerId, segmentId };
}

/** Fills {param} with real ids, or with the raw (already URL-safe) segment a case gives. */
function fill(w: World, template: string, overrides: Record<string, string> = {}): string {
  const valid: Record<string, string> = {
    memberId: w.member.id,
    cardNumber: w.card.number,
    partnerId: w.partner.id,
    keyId: w.partner.keyId,
    kid: "no-such-kid",
    purchaseId: w.purchaseId,
    month: "2026-03",
    storeId: w.storeId,
    offerId: w.offerId,
    segmentId: w.segmentId,
    key: "marital_status",
  };
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = overrides[name] ?? (valid[name] === undefined ? undefined : encodeURIComponent(valid[name]));
    if (value === undefined) throw new Error(`no value for {${name}}: add it to fill()`);
    return value;
  });
}


async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ status, code, type: `urn:dangol:problem:${code}` });
  expect(problem.requestId).toMatch(/\S/);
  return problem;
}

// ---------------------------------------------------------------------------------------------
// Bad inputs, route by route.

interface Bad {
  /** Raw path segments in place of the valid ids. */
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** Request headers (the Idempotency-Key). */
  headers?: Record<string, string>;
  /** The fields `errors` must name, no more and no fewer. */
  fields: string[];
}

const NEXT_YEAR = `${new Date().getUTCFullYear() + 1}-01-01`;
const long = (n: number) => "x".repeat(n);

const login = { email: "someone@dangol.test", password: "whatever it is" };
const staff = { email: "new.staff@dangol.test", name: "New Staff", role: "marketer", password: "a long enough password" };
const enrol = { name: "김민준", email: "valid@example.com" };
const verifyByEmail = { email: "someone@example.com", code: "123456" };
const partner = { name: "별빛시네마 강남", category: "cinema" };
const store = { code: "HD-02", name: "별빛시네마 홍대점" };
const tooLongId = long(65);
const iso = (ms: number) => new Date(ms).toISOString();
const DAY_MS = 86_400_000;
/** A valid purchase as staff record it (naming the partner), but for the field a case spoils. Built lazily: the card is the world's. */
const sale = (over: Record<string, unknown> = {}) => ({ card: { number: w.card.number }, receiptId: "R-bad", amountMinor: 10_000, currency: "KRW", partnerId: w.partner.id, ...over });
const without = (key: string, body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));
const item = (over: Record<string, unknown> = {}) => ({ sku: "A-1", category: "snacks", amountMinor: 10_000, quantity: 1, ...over });
/** The contract's default program (what a new database runs), for PUT /v1/program to spoil. */
const program = (over: Record<string, unknown> = {}) => ({ ...structuredClone(defaultProgram), ...over });
const tiers = defaultProgram.tiers;

const badInputs: Record<string, Array<[string, Bad]>> = {
  "POST /v1/auth/login": [
    ["no fields at all", { body: {}, fields: ["email", "password"] }],
    ["a missing email", { body: { password: login.password }, fields: ["email"] }],
    ["a missing password", { body: { email: login.email }, fields: ["password"] }],
    ["an email that is not one", { body: { ...login, email: "not-an-email" }, fields: ["email"] }],
    ["an email that is a number", { body: { ...login, email: 42 }, fields: ["email"] }],
    ["an empty password", { body: { ...login, password: "" }, fields: ["password"] }],
    ["a password over 200 characters", { body: { ...login, password: long(201) }, fields: ["password"] }],
    ["an unknown field", { body: { ...login, role: "admin" }, fields: ["role"] }],
  ],
  "POST /v1/auth/member/start": [
    ["neither email nor phone", { body: {}, fields: ["email", "phone"] }],
    ["both email and phone", { body: { email: "a@example.com", phone: "010-1234-5678" }, fields: ["email", "phone"] }],
    ["an email that is not one", { body: { email: "nope" }, fields: ["email"] }],
    ["a phone of two digits", { body: { phone: "12" }, fields: ["phone"] }],
    ["a phone that is no real number", { body: { phone: "1234" }, fields: ["phone"] }],
    ["a phone that is a number", { body: { phone: 1012345678 }, fields: ["phone"] }],
    ["an unknown field", { body: { email: "a@example.com", remember: true }, fields: ["remember"] }],
  ],
  "POST /v1/auth/member/verify": [
    ["a code of two digits", { body: { ...verifyByEmail, code: "12" }, fields: ["code"] }],
    ["a code of letters", { body: { ...verifyByEmail, code: "abcdef" }, fields: ["code"] }],
    ["a code that is a number", { body: { ...verifyByEmail, code: 123456 }, fields: ["code"] }],
    ["a missing code", { body: { email: verifyByEmail.email }, fields: ["code"] }],
    ["an email that is not one", { body: { ...verifyByEmail, email: "nope" }, fields: ["email"] }],
    ["a phone of two digits", { body: { phone: "12", code: "123456" }, fields: ["phone"] }],
    ["a phone that is no real number", { body: { phone: "1234", code: "123456" }, fields: ["phone"] }],
    ["an unknown field", { body: { ...verifyByEmail, memberId: "mem_x" }, fields: ["memberId"] }],
  ],
  "POST /v1/staff": [
    ["a role not in the enum", { body: { ...staff, role: "owner" }, fields: ["role"] }],
    ["a password under 12 characters", { body: { ...staff, password: "short" }, fields: ["password"] }],
    ["a blank name", { body: { ...staff, name: "   " }, fields: ["name"] }],
    ["a missing name", { body: { email: staff.email, role: staff.role, password: staff.password }, fields: ["name"] }],
    ["an email that is not one", { body: { ...staff, email: "staff@" }, fields: ["email"] }],
    ["an unknown field", { body: { ...staff, status: "active" }, fields: ["status"] }],
  ],
  "GET /v1/members": [["a search over 100 characters", { query: `q=${long(101)}`, fields: ["q"] }]],
  "POST /v1/members": [
    ["a missing name", { body: { email: enrol.email }, fields: ["name"] }],
    ["a blank name", { body: { ...enrol, name: "   " }, fields: ["name"] }],
    ["a name that is a number", { body: { ...enrol, name: 42 }, fields: ["name"] }],
    ["a name over 100 characters", { body: { ...enrol, name: long(101) }, fields: ["name"] }],
    ["an email that is not one", { body: { ...enrol, email: "not-an-email" }, fields: ["email"] }],
    ["an email without a domain", { body: { ...enrol, email: "someone@localhost" }, fields: ["email"] }],
    ["an email that is a list", { body: { ...enrol, email: ["a@example.com"] }, fields: ["email"] }],
    ["neither email nor phone", { body: { name: enrol.name }, fields: ["email"] }],
    ["a phone of two digits", { body: { name: enrol.name, phone: "12" }, fields: ["phone"] }],
    ["a phone that is no real number", { body: { name: enrol.name, phone: "1234" }, fields: ["phone"] }],
    ["a phone that is a number", { body: { name: enrol.name, phone: 1012345678 }, fields: ["phone"] }],
    ["a birth date that does not exist (2023-02-30)", { body: { ...enrol, birthDate: "2023-02-30" }, fields: ["birthDate"] }],
    ["a birth date in month 13", { body: { ...enrol, birthDate: "2023-13-01" }, fields: ["birthDate"] }],
    ["a birth date not in YYYY-MM-DD", { body: { ...enrol, birthDate: "12/04/1991" }, fields: ["birthDate"] }],
    ["a birth date with a time", { body: { ...enrol, birthDate: "1991-04-12T00:00:00Z" }, fields: ["birthDate"] }],
    ["a birth date far in the future", { body: { ...enrol, birthDate: "2999-01-01" }, fields: ["birthDate"] }],
    ["a birth date next year", { body: { ...enrol, birthDate: NEXT_YEAR }, fields: ["birthDate"] }],
    ["a birth date before 1900", { body: { ...enrol, birthDate: "1899-12-31" }, fields: ["birthDate"] }],
    ["a gender not in the enum", { body: { ...enrol, gender: "unknown" }, fields: ["gender"] }],
    ["a gender in the wrong case", { body: { ...enrol, gender: "Female" }, fields: ["gender"] }],
    ["an empty region", { body: { ...enrol, region: "" }, fields: ["region"] }],
    ["consent with no channel", { body: { ...enrol, marketingConsent: { channels: [], source: "form" } }, fields: ["marketingConsent.channels"] }],
    ["consent on a channel not in the enum", { body: { ...enrol, marketingConsent: { channels: ["fax"], source: "form" } }, fields: ["marketingConsent.channels.0"] }],
    ["consent without a source", { body: { ...enrol, marketingConsent: { channels: ["email"] } }, fields: ["marketingConsent.source"] }],
    ["an unknown field", { body: { ...enrol, tier: "gold" }, fields: ["tier"] }],
    ["an id chosen by the client", { body: { ...enrol, id: "mem_mine" }, fields: ["id"] }],
    ["two bad fields at once", { body: { name: "", email: "x" }, fields: ["name", "email"] }],
  ],
  "GET /v1/members/{memberId}": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "PATCH /v1/members/{memberId}": [
    ["nothing to change", { body: {}, fields: ["json"] }],
    ["a gender not in the enum", { body: { gender: "x" }, fields: ["gender"] }],
    ["a birth date that does not exist", { body: { birthDate: "2023-02-30" }, fields: ["birthDate"] }],
    ["a birth date far in the future", { body: { birthDate: "2999-01-01" }, fields: ["birthDate"] }],
    ["an email that is not one", { body: { email: "nope" }, fields: ["email"] }],
    ["a phone of two digits", { body: { phone: "12" }, fields: ["phone"] }],
    ["a blank name", { body: { name: "  " }, fields: ["name"] }],
    ["removing the only contact", { body: { email: null }, fields: ["email"] }],
    // Next to a real change: alone, the unknown key is stripped and "nothing to change" fires too.
    ["marketing consent (it has its own route)", { body: { region: "서울", marketingConsent: { channels: ["email"], source: "x" } }, fields: ["marketingConsent"] }],
    ["an unknown field", { body: { region: "서울", status: "closed" }, fields: ["status"] }],
    ["only an unknown field", { body: { status: "closed" }, fields: ["status", "json"] }],
    ["a member id over 64 characters", { params: { memberId: tooLongId }, body: { region: "서울" }, fields: ["memberId"] }],
  ],
  "POST /v1/members/{memberId}/cards": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "GET /v1/members/{memberId}/cards": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "POST /v1/cards/verify": [
    ["neither token nor card number", { body: {}, fields: ["token", "cardNumber"] }],
    ["both token and card number", { body: { token: "a.b.c", cardNumber: "9410123456789015" }, fields: ["token", "cardNumber"] }],
    ["a card number with a wrong check digit", { body: { cardNumber: "9410123456789016" }, fields: ["cardNumber"] }],
    ["a card number of letters", { body: { cardNumber: "abcdabcdabcdabcd" }, fields: ["cardNumber"] }],
    ["an empty card number", { body: { cardNumber: "" }, fields: ["cardNumber"] }],
    ["a card number over 32 characters", { body: { cardNumber: "9".repeat(33) }, fields: ["cardNumber"] }],
    ["a card number that is a number", { body: { cardNumber: 9410123456789015 }, fields: ["cardNumber"] }],
    ["an empty token", { body: { token: "" }, fields: ["token"] }],
    ["a token over 2048 characters", { body: { token: long(2049) }, fields: ["token"] }],
  ],
  "GET /v1/cards/{cardNumber}": [
    ["a card number of 3 digits", { params: { cardNumber: "123" }, fields: ["cardNumber"] }],
    ["a card number of 17 digits", { params: { cardNumber: "94101234567890150" }, fields: ["cardNumber"] }],
    ["a card number of 15 digits", { params: { cardNumber: "941012345678901" }, fields: ["cardNumber"] }],
    ["a card number of letters", { params: { cardNumber: "abcdabcdabcdabcd" }, fields: ["cardNumber"] }],
    ["a card number with dashes", { params: { cardNumber: "9410-1234-5678-9015" }, fields: ["cardNumber"] }],
  ],
  "POST /v1/cards/{cardNumber}/block": [
    ["a card number that is not 16 digits", { params: { cardNumber: "123" }, fields: ["cardNumber"] }],
    ["a reason not in the enum", { body: { reason: "stolen" }, fields: ["reason"] }],
    ["an unknown field", { body: { reason: "lost", note: "on the bus" }, fields: ["note"] }],
  ],
  "POST /v1/cards/{cardNumber}/unblock": [["a card number that is not 16 digits", { params: { cardNumber: "12345678901234567890" }, fields: ["cardNumber"] }]],
  "POST /v1/cards/{cardNumber}/replace": [["a card number that is not 16 digits", { params: { cardNumber: "x" }, fields: ["cardNumber"] }]],
  "POST /v1/partners": [
    ["a missing category", { body: { name: partner.name }, fields: ["category"] }],
    ["a blank name", { body: { ...partner, name: " " }, fields: ["name"] }],
    ["a name over 100 characters", { body: { ...partner, name: long(101) }, fields: ["name"] }],
    ["a category over 50 characters", { body: { ...partner, category: long(51) }, fields: ["category"] }],
    ["an unknown field", { body: { ...partner, status: "active" }, fields: ["status"] }],
    ["a contact email that is not one", { body: { ...partner, contact: { email: "nope" } }, fields: ["contact.email"] }],
    ["a contact phone that is no real number", { body: { ...partner, contact: { phone: "1234" } }, fields: ["contact.phone"] }],
    ["an unknown contact field", { body: { ...partner, contact: { fax: "02-1234-5678" } }, fields: ["contact.fax"] }],
    ["half the settlement rates", { body: { ...partner, settlement: { pointCostMilli: 1000 } }, fields: ["settlement.redemptionRateMilli"] }],
    ["a negative settlement rate", { body: { ...partner, settlement: { pointCostMilli: -1, redemptionRateMilli: 1000 } }, fields: ["settlement.pointCostMilli"] }],
    ["a settlement rate over 1,000,000", { body: { ...partner, settlement: { pointCostMilli: 1000, redemptionRateMilli: 1_000_001 } }, fields: ["settlement.redemptionRateMilli"] }],
    ["a fractional settlement rate", { body: { ...partner, settlement: { pointCostMilli: 1000.5, redemptionRateMilli: 1000 } }, fields: ["settlement.pointCostMilli"] }],
  ],
  "GET /v1/partners/{partnerId}": [["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }]],
  "PATCH /v1/partners/{partnerId}": [
    ["nothing to change", { body: {}, fields: ["json"] }],
    ["a blank name", { body: { name: " " }, fields: ["name"] }],
    ["a category over 50 characters", { body: { category: long(51) }, fields: ["category"] }],
    ["a status not in the enum", { body: { status: "closed" }, fields: ["status"] }],
    ["a contact email that is not one", { body: { contact: { email: "x@" } }, fields: ["contact.email"] }],
    ["a contact phone that is no real number", { body: { contact: { phone: "1234" } }, fields: ["contact.phone"] }],
    ["an empty settlement", { body: { settlement: {} }, fields: ["settlement"] }],
    ["a negative settlement rate", { body: { settlement: { pointCostMilli: -1 } }, fields: ["settlement.pointCostMilli"] }],
    ["a settlement rate over 1,000,000", { body: { settlement: { redemptionRateMilli: 1_000_001 } }, fields: ["settlement.redemptionRateMilli"] }],
    ["a settlement rate as a string", { body: { settlement: { redemptionRateMilli: "1000" } }, fields: ["settlement.redemptionRateMilli"] }],
    ["an unknown field", { body: { name: "x", id: "prt_mine" }, fields: ["id"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, body: { name: "x" }, fields: ["partnerId"] }],
  ],
  "POST /v1/partners/{partnerId}/stores": [
    ["no fields at all", { body: {}, fields: ["code", "name"] }],
    ["a code with a space", { body: { ...store, code: "HD 02" }, fields: ["code"] }],
    ["a code over 32 characters", { body: { ...store, code: long(33) }, fields: ["code"] }],
    ["a code that is a number", { body: { ...store, code: 2 }, fields: ["code"] }],
    ["a blank name", { body: { ...store, name: "  " }, fields: ["name"] }],
    ["an address over 300 characters", { body: { ...store, address: long(301) }, fields: ["address"] }],
    ["a latitude over 90", { body: { ...store, latitude: 91, longitude: 127 }, fields: ["latitude"] }],
    ["a longitude under -180", { body: { ...store, latitude: 37.5, longitude: -181 }, fields: ["longitude"] }],
    ["a latitude without a longitude", { body: { ...store, latitude: 37.5 }, fields: ["longitude"] }],
    ["coordinates as strings", { body: { ...store, latitude: "37.5", longitude: "127" }, fields: ["latitude", "longitude"] }],
    ["a status chosen by the client", { body: { ...store, status: "closed" }, fields: ["status"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, body: store, fields: ["partnerId"] }],
  ],
  "GET /v1/partners/{partnerId}/stores": [["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }]],
  "GET /v1/partners/{partnerId}/stores/{storeId}": [
    ["a store id over 64 characters", { params: { storeId: tooLongId }, fields: ["storeId"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }],
  ],
  "PATCH /v1/partners/{partnerId}/stores/{storeId}": [
    ["nothing to change", { body: {}, fields: ["json"] }],
    ["a status not in the enum", { body: { status: "open" }, fields: ["status"] }],
    ["a new code (a store keeps its code)", { body: { name: "x", code: "HD-03" }, fields: ["code"] }],
    ["a longitude without a latitude", { body: { longitude: 127 }, fields: ["latitude"] }],
    ["a latitude under -90", { body: { latitude: -90.5, longitude: 0 }, fields: ["latitude"] }],
    ["a blank name", { body: { name: "" }, fields: ["name"] }],
    ["a store id over 64 characters", { params: { storeId: tooLongId }, body: { name: "x" }, fields: ["storeId"] }],
  ],
  "POST /v1/partners/{partnerId}/keys": [
    ["no scope", { body: { name: "POS", scopes: [] }, fields: ["scopes"] }],
    ["a scope not in the enum", { body: { name: "POS", scopes: ["admin:all"] }, fields: ["scopes.0"] }],
    ["scopes as a string", { body: { name: "POS", scopes: "cards:verify" }, fields: ["scopes"] }],
    ["a missing name", { body: { scopes: ["cards:verify"] }, fields: ["name"] }],
    ["a key chosen by the client", { body: { name: "POS", key: "dg_pk_mine" }, fields: ["key"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, body: { name: "POS" }, fields: ["partnerId"] }],
  ],
  "GET /v1/partners/{partnerId}/keys": [["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }]],
  "POST /v1/partners/{partnerId}/keys/{keyId}/revoke": [
    ["a key id over 64 characters", { params: { keyId: tooLongId }, fields: ["keyId"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }],
  ],
  "GET /v1/outbox": [["a recipient over 254 characters", { query: `recipient=${long(255)}`, fields: ["recipient"] }]],
  // Purchases. Bodies are built when the case runs (they need the world's card), hence the getters.
  "POST /v1/purchases": [
    ["no fields at all", { body: {}, fields: ["card", "receiptId", "amountMinor", "currency"] }],
    ["a missing card", { get body() { return without("card", sale()); }, fields: ["card"] }],
    ["a missing receipt id", { get body() { return without("receiptId", sale()); }, fields: ["receiptId"] }],
    ["a missing amount", { get body() { return without("amountMinor", sale()); }, fields: ["amountMinor"] }],
    ["a missing currency", { get body() { return without("currency", sale()); }, fields: ["currency"] }],
    ["a blank receipt id", { get body() { return sale({ receiptId: "   " }); }, fields: ["receiptId"] }],
    ["a receipt id over 64 characters", { get body() { return sale({ receiptId: long(65) }); }, fields: ["receiptId"] }],
    ["a card with both token and number", { get body() { return sale({ card: { token: "a.b.c", number: w.card.number } }); }, fields: ["card.token", "card.number"] }],
    ["a card with neither token nor number", { get body() { return sale({ card: {} }); }, fields: ["card.token", "card.number"] }],
    ["a card that is a string", { get body() { return sale({ card: w.card.number }); }, fields: ["card"] }],
    ["a PIN of 3 digits", { get body() { return sale({ card: { number: w.card.number, pin: "583" } }); }, fields: ["card.pin"] }],
    ["a PIN as a number", { get body() { return sale({ card: { number: w.card.number, pin: 583071 } }); }, fields: ["card.pin"] }],
    ["a PIN with a card token (the token is proof enough)", { get body() { return sale({ card: { token: "a.b.c", pin: "583071" } }); }, fields: ["card.pin"] }],
    // The check digit is checked where a card is resolved, and named as POST /v1/cards/verify names it.
    ["a card number with a wrong check digit", { get body() { return sale({ card: { number: `${w.card.number.slice(0, 15)}${(Number(w.card.number[15]) + 1) % 10}` } }); }, fields: ["cardNumber"] }],
    ["a negative amount", { get body() { return sale({ amountMinor: -1 }); }, fields: ["amountMinor"] }],
    ["a fractional amount", { get body() { return sale({ amountMinor: 100.5 }); }, fields: ["amountMinor"] }],
    ["an amount that is a string", { get body() { return sale({ amountMinor: "10000" }); }, fields: ["amountMinor"] }],
    ["a currency in lower case", { get body() { return sale({ currency: "krw" }); }, fields: ["currency"] }],
    ["a currency the program does not run in", { get body() { return sale({ currency: "EUR" }); }, fields: ["currency"] }],
    ["items that do not add up to the amount", { get body() { return sale({ items: [item({ amountMinor: 6_000 }), item({ sku: "B-2", amountMinor: 3_000 })] }); }, fields: ["items"] }],
    ["an item of quantity 0", { get body() { return sale({ items: [item({ quantity: 0 })] }); }, fields: ["items.0.quantity"] }],
    ["an item with an unknown field", { get body() { return sale({ items: [item({ discount: 100 })] }); }, fields: ["items.0.discount"] }],
    ["an empty item list", { get body() { return sale({ items: [] }); }, fields: ["items"] }],
    ["the same offer twice", { get body() { return sale({ offerIds: [w.offerId, w.offerId] }); }, fields: ["offerIds"] }],
    ["negative points to redeem", { get body() { return sale({ redeemPoints: -1 }); }, fields: ["redeemPoints"] }],
    ["fractional points to redeem", { get body() { return sale({ redeemPoints: 1.5 }); }, fields: ["redeemPoints"] }],
    ["points that pay for more than the amount", { get body() { return sale({ amountMinor: 1_000, redeemPoints: 1_001 }); }, fields: ["redeemPoints"] }],
    ["an occurredAt that is not ISO-8601", { get body() { return sale({ occurredAt: "02/03/2026 09:00" }); }, fields: ["occurredAt"] }],
    ["an occurredAt without an offset", { get body() { return sale({ occurredAt: "2026-03-02T09:00:00" }); }, fields: ["occurredAt"] }],
    ["an occurredAt in the future (by the app's clock)", { get body() { return sale({ occurredAt: iso(T0 + DAY_MS) }); }, fields: ["occurredAt"] }],
    ["an occurredAt more than 30 days back", { get body() { return sale({ occurredAt: iso(T0 - 31 * DAY_MS) }); }, fields: ["occurredAt"] }],
    ["an unknown field", { get body() { return sale({ discountMinor: 500 }); }, fields: ["discountMinor"] }],
    ["a member id chosen by the client", { get body() { return sale({ memberId: w.member.id }); }, fields: ["memberId"] }],
    ["an Idempotency-Key over 255 characters", { headers: { "idempotency-key": long(256) }, get body() { return sale(); }, fields: ["Idempotency-Key"] }],
    ["an Idempotency-Key with a space", { headers: { "idempotency-key": "till 7 sale 42" }, get body() { return sale(); }, fields: ["Idempotency-Key"] }],
    ["staff not naming the partner", { get body() { return without("partnerId", sale()); }, fields: ["partnerId"] }],
    ["a partner id over 64 characters", { get body() { return sale({ partnerId: tooLongId }); }, fields: ["partnerId"] }],
  ],
  "POST /v1/purchases/quote": [
    ["no fields at all", { body: {}, fields: ["card", "receiptId", "amountMinor", "currency"] }],
    ["a negative amount", { get body() { return sale({ amountMinor: -1 }); }, fields: ["amountMinor"] }],
    ["items that do not add up to the amount", { get body() { return sale({ items: [item({ amountMinor: 6_000 })] }); }, fields: ["items"] }],
    ["points that pay for more than the amount", { get body() { return sale({ amountMinor: 1_000, redeemPoints: 1_001 }); }, fields: ["redeemPoints"] }],
    ["offer ids that are not a list", { get body() { return sale({ offerIds: "ofr_1" }); }, fields: ["offerIds"] }],
    ["the same offer twice", { get body() { return sale({ offerIds: [w.offerId, w.offerId] }); }, fields: ["offerIds"] }],
    ["an unknown field", { get body() { return sale({ discountMinor: 500 }); }, fields: ["discountMinor"] }],
    ["staff not naming the partner", { get body() { return without("partnerId", sale()); }, fields: ["partnerId"] }],
  ],
  "GET /v1/purchases/{purchaseId}": [["a purchase id over 64 characters", { params: { purchaseId: tooLongId }, fields: ["purchaseId"] }]],
  "POST /v1/purchases/{purchaseId}/refunds": [
    ["an amount of 0", { body: { amountMinor: 0 }, fields: ["amountMinor"] }],
    ["a negative amount", { body: { amountMinor: -100 }, fields: ["amountMinor"] }],
    ["a fractional amount", { body: { amountMinor: 10.5 }, fields: ["amountMinor"] }],
    ["a missing amount or items", { body: {}, fields: ["amountMinor", "items"] }],
    ["no items", { body: { items: [] }, fields: ["items"] }],
    ["an item quantity of zero", { body: { items: [{ sku: "A", quantity: 0 }] }, fields: ["items.0.quantity"] }],
    ["the same sku twice", { body: { items: [{ sku: "A", quantity: 1 }, { sku: "A", quantity: 1 }] }, fields: ["items"] }],
    ["an unknown field", { body: { amountMinor: 100, reason: "damaged" }, fields: ["reason"] }],
    ["a purchase id over 64 characters", { params: { purchaseId: tooLongId }, body: { amountMinor: 100 }, fields: ["purchaseId"] }],
    ["an Idempotency-Key with a space", { headers: { "idempotency-key": "a b" }, body: { amountMinor: 100 }, fields: ["Idempotency-Key"] }],
  ],
  "POST /v1/purchases/{purchaseId}/void": [
    ["a purchase id over 64 characters", { params: { purchaseId: tooLongId }, fields: ["purchaseId"] }],
    ["an Idempotency-Key over 255 characters", { headers: { "idempotency-key": long(256) }, fields: ["Idempotency-Key"] }],
  ],

  // Offers.
  "POST /v1/offers": [
    ["no fields at all", { body: {}, fields: ["name", "reward"] }],
    ["a reward kind that does not exist", { body: { name: "x", reward: { kind: "free_lunch" } }, fields: ["reward.kind"] }],
    ["a percentage over 100%", { body: { name: "x", reward: { kind: "percent", percentBps: 10_001 } }, fields: ["reward.percentBps"] }],
    ["a percentage with an amount's field", { body: { name: "x", reward: { kind: "percent", percentBps: 1_000, amountMinor: 5 } }, fields: ["reward.amountMinor"] }],
    ["a fixed amount of 0", { body: { name: "x", reward: { kind: "amount", amountMinor: 0 } }, fields: ["reward.amountMinor"] }],
    ["a reward without its points", { body: { name: "x", reward: { kind: "points_reward", rewardValueMinor: 4_500 } }, fields: ["reward.pointsCost"] }],
    ["a weekday 8", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, conditions: { weekdays: [8] } }, fields: ["conditions.weekdays.0"] }],
    ["hours that are not HH:MM", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, conditions: { hours: { from: "9am", to: "18:00" } } }, fields: ["conditions.hours.from"] }],
    ["a tier the program lacks", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, conditions: { tiers: ["platinum"] } }, fields: ["conditions.tiers.0"] }],
    ["a store of no partner", { get body() { return { name: "x", partnerId: w.partner.id, reward: { kind: "amount", amountMinor: 500 }, conditions: { storeIds: ["sto_nope"] } }; }, fields: ["conditions.storeIds.0"] }],
    ["a per-member limit of 0", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, limits: { perMemberPerDay: 0 } }, fields: ["limits.perMemberPerDay"] }],
    ["a budget of 0 uses", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, budget: { count: 0 } }, fields: ["budget.count"] }],
    ["an operator share over 100%", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, operatorFundedBps: 10_001 }, fields: ["operatorFundedBps"] }],
    ["an end before the start", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, validFrom: "2026-03-10T00:00:00Z", validUntil: "2026-03-01T00:00:00Z" }, fields: ["validUntil"] }],
    ["an unknown field", { body: { name: "x", reward: { kind: "amount", amountMinor: 500 }, priority: 1 }, fields: ["priority"] }],
    ["a partner that does not exist", { body: { name: "x", partnerId: "prt_00000000000000000000000000", reward: { kind: "amount", amountMinor: 500 } }, fields: ["partnerId"] }],
  ],
  "GET /v1/offers/{offerId}": [["an offer id over 64 characters", { params: { offerId: tooLongId }, fields: ["offerId"] }]],
  "PATCH /v1/offers/{offerId}": [
    ["a status not in the enum", { body: { status: "deleted" }, fields: ["status"] }],
    ["a validUntil that is not ISO-8601", { body: { validUntil: "tomorrow" }, fields: ["validUntil"] }],
    ["an unknown field", { body: { status: "paused", name: "renamed" }, fields: ["name"] }],
  ],
  "GET /v1/members/{memberId}/offers": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "GET /v1/members/{memberId}/profile": [
    ["no reason given by staff", { fields: ["reason"] }],
    ["a reason not in the list", { query: "reason=curiosity", fields: ["reason"] }],
    ["a member id over 64 characters", { params: { memberId: tooLongId }, query: "reason=support_call", fields: ["memberId"] }],
  ],
  "POST /v1/interactions": [
    // Only the batch's shape fails it whole; each event is judged on its own (test/node/interactions.test.ts).
    ["no fields at all", { body: {}, fields: ["events"] }],
    ["events that are not a list", { body: { events: "x" }, fields: ["events"] }],
    ["no events", { body: { events: [] }, fields: ["events"] }],
    ["more than 1,000 events", { body: { events: Array.from({ length: 1_001 }, () => ({})) }, fields: ["events"] }],
    ["an unknown field", { body: { events: [{}], source: "crm" }, fields: ["source"] }],
  ],
  "GET /v1/members/{memberId}/interactions": [
    ["a kind not in the list", { query: "kind=fax", fields: ["kind"] }],
    ["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }],
  ],

  // Segments (the rule's own errors, node by node, are in test/node/segments.test.ts).
  "POST /v1/segments/preview": [
    ["no rule", { body: {}, fields: ["rule"] }],
    ["a rule that is a string", { body: { rule: "tier = gold" }, fields: ["rule"] }],
    ["an unknown attribute", { body: { rule: { attr: "colour", op: "eq", value: "red" } }, fields: ["rule.attr"] }],
    ["an operator its type does not take", { body: { rule: { all: [{ attr: "age", op: "gte", value: 30 }, { attr: "gender", op: "gt", value: "male" }] } }, fields: ["rule.all.1.op"] }],
    ["an unknown field", { body: { rule: { attr: "tier", op: "eq", value: "gold" }, limit: 5 }, fields: ["limit"] }],
  ],
  "POST /v1/segments": [
    ["no fields at all", { body: {}, fields: ["name", "rule"] }],
    ["a blank name", { body: { name: "  ", rule: { attr: "tier", op: "eq", value: "gold" } }, fields: ["name"] }],
    ["a name over 100 characters", { body: { name: long(101), rule: { attr: "tier", op: "eq", value: "gold" } }, fields: ["name"] }],
    ["a value of the wrong type", { body: { name: "x", rule: { attr: "age", op: "eq", value: "thirty" } }, fields: ["rule.value"] }],
    ["a segment that does not exist", { body: { name: "x", rule: { attr: "inSegment", op: "eq", value: "seg_nope" } }, fields: ["rule.value"] }],
    ["an id chosen by the client", { body: { id: "seg_mine", name: "x", rule: { attr: "tier", op: "eq", value: "gold" } }, fields: ["id"] }],
  ],
  "GET /v1/segments/{segmentId}": [["a segment id over 64 characters", { params: { segmentId: tooLongId }, fields: ["segmentId"] }]],
  "PATCH /v1/segments/{segmentId}": [
    ["nothing to change", { body: {}, fields: ["json"] }],
    ["a blank name", { body: { name: "" }, fields: ["name"] }],
    ["a rule missing its operator", { body: { rule: { attr: "tier", value: "gold" } }, fields: ["rule.op"] }],
    ["a rule that contains the segment itself", { get body() { return { rule: { attr: "inSegment", op: "eq", value: w.segmentId } }; }, fields: ["rule.value"] }],
    ["an unknown field", { body: { name: "x", memberCount: 3 }, fields: ["memberCount"] }],
    ["a segment id over 64 characters", { params: { segmentId: tooLongId }, body: { name: "x" }, fields: ["segmentId"] }],
  ],
  "GET /v1/segments/{segmentId}/members": [["a segment id over 64 characters", { params: { segmentId: tooLongId }, fields: ["segmentId"] }]],
  "POST /v1/segments/{segmentId}/refresh": [["a segment id over 64 characters", { params: { segmentId: tooLongId }, fields: ["segmentId"] }]],
  "PUT /v1/custom-attributes/{key}": [
    ["no type", { body: {}, fields: ["type"] }],
    ["a type not in the enum", { body: { type: "date" }, fields: ["type"] }],
    ["a key with capitals", { params: { key: "MaritalStatus" }, body: { type: "text" }, fields: ["key"] }],
    ["a key over 40 characters", { params: { key: `k${long(40)}` }, body: { type: "text" }, fields: ["key"] }],
    ["an enum value twice", { body: { type: "enum", values: ["single", "single"] }, fields: ["values"] }],
    ["an enum without values", { params: { key: "pets" }, body: { type: "enum" }, fields: ["values"] }],
    ["a declared key with another type", { body: { type: "number" }, fields: ["type"] }],
    ["an unknown field", { body: { type: "text", required: true }, fields: ["required"] }],
  ],
  "GET /v1/members/{memberId}/attributes": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "PUT /v1/members/{memberId}/attributes": [
    ["no attributes", { body: {}, fields: ["attributes"] }],
    ["an empty map", { body: { attributes: {} }, fields: ["attributes"] }],
    ["a key out of pattern", { body: { attributes: { "Marital Status": "single" } }, fields: ["attributes.Marital Status"] }],
    ["a value that is a list", { body: { attributes: { marital_status: ["single"] } }, fields: ["attributes.marital_status"] }],
    ["a value outside the declared enum", { body: { attributes: { marital_status: "complicated" } }, fields: ["attributes.marital_status"] }],
    ["an undeclared key", { body: { attributes: { shoe_size: 42 } }, fields: ["attributes.shoe_size"] }],
    ["a member id over 64 characters", { params: { memberId: tooLongId }, body: { attributes: { marital_status: "single" } }, fields: ["memberId"] }],
  ],

  // Points.
  "GET /v1/members/{memberId}/balance": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "GET /v1/members/{memberId}/ledger": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "GET /v1/members/{memberId}/tier": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
  "POST /v1/members/{memberId}/adjustments": [
    ["zero points", { body: { points: 0, reason: "goodwill" }, fields: ["points"] }],
    ["fractional points", { body: { points: 1.5, reason: "goodwill" }, fields: ["points"] }],
    ["points as a string", { body: { points: "100", reason: "goodwill" }, fields: ["points"] }],
    ["a reason under 3 characters", { body: { points: 100, reason: "ok" }, fields: ["reason"] }],
    ["a reason of 3 characters only once trimmed", { body: { points: 100, reason: "  ok  " }, fields: ["reason"] }],
    ["a missing reason", { body: { points: 100 }, fields: ["reason"] }],
    ["a reason over 500 characters", { body: { points: 100, reason: long(501) }, fields: ["reason"] }],
    ["an unknown field", { body: { points: 100, reason: "goodwill", expiresAt: "2030-01-01" }, fields: ["expiresAt"] }],
    ["a member id over 64 characters", { params: { memberId: tooLongId }, body: { points: 100, reason: "goodwill" }, fields: ["memberId"] }],
  ],

  // The program's rules.
  "PUT /v1/program": [
    ["a first tier that needs points", { body: program({ tiers: [{ ...tiers[0], qualifyingPoints: 10 }, ...tiers.slice(1)] }), fields: ["tiers.0.qualifyingPoints"] }],
    ["two tiers with one code", { body: program({ tiers: [tiers[0], { ...tiers[1], code: tiers[0]!.code }, ...tiers.slice(2)] }), fields: ["tiers"] }],
    ["tiers out of order", { body: program({ tiers: [tiers[0], tiers[2], tiers[1]] }), fields: ["tiers.2.qualifyingPoints"] }],
    ["no tiers", { body: program({ tiers: [] }), fields: ["tiers"] }],
    ["a negative base rate", { body: program({ earning: { ...defaultProgram.earning, baseRateBps: -1 } }), fields: ["earning.baseRateBps"] }],
    ["an unknown field", { body: program({ welcomeBonus: 1000 }), fields: ["welcomeBonus"] }],
    ["an expiry policy that does not exist", { body: program({ expiry: { policy: "forever" } }), fields: ["expiry.policy"] }],
    ["a rolling expiry of 0 months", { body: program({ expiry: { policy: "rolling_months", months: 0 } }), fields: ["expiry.months"] }],
    ["a currency in lower case", { body: program({ currency: "krw" }), fields: ["currency"] }],
    ["a point worth nothing", { body: program({ pointValueMinor: 0 }), fields: ["pointValueMinor"] }],
    ["a redemption minimum above its maximum", { body: program({ redemption: { minPoints: 500, maxPoints: 100 } }), fields: ["redemption.minPoints"] }],
    ["a royal tier for more than the top half", { body: program({ tiers: [tiers[0], tiers[1], tiers[2], { ...tiers[3], topSpendPercent: 60 }] }), fields: ["tiers.3.topSpendPercent"] }],
  ],
  "GET /v1/partners/{partnerId}/statements/{month}": [
    ["a month without its leading zero", { params: { month: "2026-3" }, fields: ["month"] }],
    ["month 13", { params: { month: "2026-13" }, fields: ["month"] }],
    ["month 00", { params: { month: "2026-00" }, fields: ["month"] }],
    ["a day, not a month", { params: { month: "2026-03-01" }, fields: ["month"] }],
    ["a month before 2000", { params: { month: "1999-12" }, fields: ["month"] }],
    ["a month that has not begun (the clock is in March 2026)", { params: { month: "2026-04" }, fields: ["month"] }],
    ["a partner id over 64 characters", { params: { partnerId: tooLongId }, fields: ["partnerId"] }],
  ],
  "DELETE /v1/admin/signing-keys/{kid}": [["a kid over 64 characters", { params: { kid: tooLongId }, fields: ["kid"] }]],

  // The member's PIN.
  "PUT /v1/me/pin": [
    ["no PIN", { body: {}, fields: ["pin"] }],
    ["a PIN of 3 digits", { body: { pin: "583" }, fields: ["pin"] }],
    ["a PIN of 7 digits", { body: { pin: "5830719" }, fields: ["pin"] }],
    ["a PIN with a letter", { body: { pin: "58a0" }, fields: ["pin"] }],
    ["a PIN as a number", { body: { pin: 583071 }, fields: ["pin"] }],
    ["a run of digits", { body: { pin: "4567" }, fields: ["pin"] }],
    ["one digit repeated", { body: { pin: "999999" }, fields: ["pin"] }],
    ["an unknown field", { body: { pin: "583071", currentPin: "692804" }, fields: ["currentPin"] }],
  ],
  "DELETE /v1/members/{memberId}/pin": [["a member id over 64 characters", { params: { memberId: tooLongId }, fields: ["memberId"] }]],
};

/** Self-service routes act on the signed-in member: they take the member's token, the rest the admin's. */
const tokenFor = (path: string) => (/^\/v1\/me(\/|$)/.test(path) ? w.memberToken : ADMIN_TOKEN);

/** Every paged list: bad limits and cursors. */
const pageCases: Array<[string, string, string[]]> = [
  ["limit=0", "limit=0", ["limit"]],
  ["limit=101", "limit=101", ["limit"]],
  ["limit=-1", "limit=-1", ["limit"]],
  ["a fractional limit", "limit=2.5", ["limit"]],
  ["a limit of letters", "limit=ten", ["limit"]],
  ["a garbage cursor", "cursor=garbage!!", ["cursor"]],
  ["a cursor that is base64 but not ours", `cursor=${Buffer.from('{"x":1}').toString("base64url")}`, ["cursor"]],
  ["a cursor over 200 characters", `cursor=${"A".repeat(201)}`, ["cursor"]],
];

let w: World;
beforeAll(async () => {
  w = await makeWorld();
});

describe("every operation that takes input has a table here", () => {
  it.each(operations.filter((o) => pathParamsOf(o.op).length > 0 || o.op.requestBody || queryParamsOf(o.op).some((q) => q !== "limit" && q !== "cursor")).map((o) => [o.key]))(
    "%s",
    (key) => {
      expect(badInputs[key], `no bad inputs for ${key}`).toBeDefined();
    },
  );

  it("and no table names a route the document does not have", () => {
    expect(Object.keys(badInputs).filter((key) => !operations.some((o) => o.key === key))).toEqual([]);
  });
});

describe.each(Object.entries(badInputs))("%s", (key, cases) => {
  const [method, template] = key.split(" ") as [string, string];
  it.each(cases)("rejects %s", async (_, bad) => {
    const path = fill(w, template, bad.params) + (bad.query ? `?${bad.query}` : "");
    const res = await w.t.call(method, path, { token: tokenFor(path), ...(bad.headers && { headers: bad.headers }), ...(bad.body !== undefined && { body: bad.body }) });
    const problem = await expectProblem(res, 400, "validation_failed");
    expect([...new Set(problem.errors?.map((e) => e.field))].sort()).toEqual([...bad.fields].sort());
    for (const error of problem.errors ?? []) expect(error.message).toMatch(/\S/);
  });
});

describe.each(paged.map((o) => [o.key, o] as const))("%s paging", (_, o) => {
  it.each(pageCases)("rejects %s", async (__, query, fields) => {
    const res = await w.t.call(o.method, `${fill(w, o.path)}?${query}`);
    const problem = await expectProblem(res, 400, "validation_failed");
    expect([...new Set(problem.errors?.map((e) => e.field))]).toEqual(fields);
  });

  it("accepts limit=1 and limit=100", async () => {
    for (const limit of [1, 100]) {
      const res = await w.t.call(o.method, `${fill(w, o.path)}?limit=${limit}`);
      expect(res.status, await res.clone().text()).toBe(200);
    }
  });
});

describe.each(withBody.map((o) => [o.key, o] as const))("%s with a body that is not a JSON object", (_, o) => {
  const send = (body: string | undefined, contentType: string | null) => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokenFor(o.path)}` };
    if (contentType) headers["content-type"] = contentType;
    return Promise.resolve(w.t.app.request(fill(w, o.path), { method: o.method, headers, body }));
  };

  it.each([
    ["truncated JSON", '{"name": '],
    ["JSON with a trailing comma", '{"name": "x",}'],
    ["single-quoted pseudo-JSON", "{'name': 'x'}"],
    ["an empty body", ""],
  ])("answers %s with 400 malformed_request", async (__, body) => {
    const problem = await expectProblem(await send(body, "application/json"), 400, "malformed_request");
    expect(problem.errors).toBeUndefined();
  });

  it.each([
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["a JSON string", '"hello"'],
    ["a JSON number", "42"],
  ])("answers %s with 400 validation_failed on the whole body", async (__, body) => {
    const problem = await expectProblem(await send(body, "application/json"), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.field)).toEqual(["json"]);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
    ["XML", "application/xml"],
  ])("answers a body sent as %s with 415 unsupported_media_type", async (__, contentType) => {
    await expectProblem(await send('{"name":"x"}', contentType), 415, "unsupported_media_type");
  });

  // A batch of events may be larger than any other body.
  const limit = o.key === "POST /v1/interactions" ? INGEST_BODY_LIMIT_BYTES : 64 * 1024;
  it(`answers a body of more than ${limit / 1024} KiB with 413 payload_too_large`, async () => {
    await expectProblem(await send(JSON.stringify({ name: long(limit) }), "application/json"), 413, "payload_too_large");
  });

  if (o.op.requestBody?.required) {
    it("answers no body at all with 400 validation_failed", async () => {
      const problem = await expectProblem(await send(undefined, null), 400, "validation_failed");
      expect(problem.errors?.length).toBeGreaterThan(0);
    });
  }
});

describe("the body limit", () => {
  /** A JSON body of exactly n bytes: {"name":"xxx…"}. */
  const bodyOf = (n: number) => JSON.stringify({ name: long(n - '{"name":""}'.length) });

  it("lets a body of exactly 64 KiB through to validation", async () => {
    expect(new TextEncoder().encode(bodyOf(64 * 1024)).length).toBe(64 * 1024);
    const problem = await expectProblem(await w.t.call("POST", "/v1/members", { body: bodyOf(64 * 1024) }), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.field)).toEqual(["name"]);
  });

  it("refuses one byte more with 413 payload_too_large", async () => {
    await expectProblem(await w.t.call("POST", "/v1/members", { body: bodyOf(64 * 1024 + 1) }), 413, "payload_too_large");
  });

  it("refuses it before authentication: an anonymous caller gets 413 too", async () => {
    await expectProblem(await w.t.call("POST", "/v1/members", { token: null, body: bodyOf(100 * 1024) }), 413, "payload_too_large");
  });

  it("counts bytes, not characters", async () => {
    // 22,000 Hangul syllables: 22,000 characters, 66,000 bytes of UTF-8.
    await expectProblem(await w.t.call("POST", "/v1/members", { body: JSON.stringify({ name: "가".repeat(22_000) }) }), 413, "payload_too_large");
  });
});

// ---------------------------------------------------------------------------------------------
// The sweep: hostile inputs everywhere, and never a 5xx.

const hostileSegments = [
  "%00",
  "..%2F..%2Fetc%2Fpasswd",
  "../../etc/passwd",
  "%2e%2e",
  "%",
  "%E0%A4%A",
  "%ZZ",
  encodeURIComponent("' OR '1'='1"),
  encodeURIComponent("<script>alert(1)</script>"),
  encodeURIComponent("💥🙂한글"),
  long(5000),
  "null",
  "-1",
  "9".repeat(16),
  "0000000000000000",
];

const hostileQueries = [
  "limit=-1",
  "limit=1e309",
  "limit=NaN",
  "limit=99999999999999999999999",
  "limit=1&limit=2",
  "cursor=a&cursor=b",
  "cursor=%00",
  `cursor=${Buffer.from('{"k":1}').toString("base64url")}`,
  `cursor=${Buffer.from('{"k":"\\u0000"}').toString("base64url")}`,
  `cursor=${"A".repeat(200)}`,
  "q=%25",
  "q=_",
  `q=${encodeURIComponent("' OR 1=1 --")}`,
  `q=${encodeURIComponent("💥")}`,
  "recipient=%2B",
  `recipient=${encodeURIComponent("+82 10 ")}`,
  `unknown=${long(1000)}`,
];

const hostileValues: unknown[] = [123, -1, 1e308, true, null, [], {}, ["a", "b"], long(10_000), "\u0000", "💥🙂한글\u202e", "' OR '1'='1", { $gt: "" }];

function hostileBodies(o: (typeof operations)[number]): Array<[string, string]> {
  const props = propertiesOf(o.op.requestBody?.content["application/json"]?.schema);
  const raw: Array<[string, string]> = [
    ["{}", "{}"],
    ["[]", "[]"],
    ["null", "null"],
    ["a string", JSON.stringify(long(60_000))],
    ["a number", "12345"],
    ["a deep array", `${"[".repeat(5000)}${"]".repeat(5000)}`],
    ["__proto__", '{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"x": 1}}}'],
    ["duplicate keys", '{"name": "a", "name": {"x": 1}}'],
  ];
  for (const prop of props) {
    for (const value of hostileValues) raw.push([`${prop}=${JSON.stringify(value).slice(0, 20)}`, JSON.stringify({ [prop]: value })]);
  }
  // Every property hostile at once.
  for (const value of hostileValues) raw.push([`all=${JSON.stringify(value).slice(0, 20)}`, JSON.stringify(Object.fromEntries(props.map((p) => [p, value])))]);
  return raw;
}

describe("no input yields a 5xx", () => {
  let s: World;
  beforeAll(async () => {
    s = await makeWorld();
  });

  it.each(operations.map((o) => [o.key, o] as const))("%s", async (_, o) => {
    const token = o.path.startsWith("/v1/me") ? s.memberToken : ADMIN_TOKEN;
    const failures: string[] = [];
    const probe = async (label: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const res = await s.t.call(o.method, path, body === undefined ? { token, headers } : { token, body, headers });
      const type = res.headers.get("content-type") ?? "";
      if (res.status >= 500) failures.push(`${label}: ${res.status} ${await res.text()}`);
      else if (res.status >= 400 && type !== "application/problem+json") failures.push(`${label}: ${res.status} as ${type}`);
    };

    for (const param of pathParamsOf(o.op)) {
      for (const segment of hostileSegments) await probe(`{${param}}=${segment.slice(0, 30)}`, fill(s, o.path, { [param]: segment }));
    }
    for (const query of hostileQueries) await probe(`?${query.slice(0, 40)}`, `${fill(s, o.path)}?${query}`);
    if (o.op.requestBody) {
      for (const [label, body] of hostileBodies(o)) await probe(`body ${label}`, fill(s, o.path), body);
    }
    // Whatever the route takes, a body under another content-type (a 500 once, for the undeclared 415).
    for (const contentType of o.method === "GET" ? [] : ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/merge-patch+json"]) {
      await probe(`content-type ${contentType}`, fill(s, o.path), '{"name":"x"}', { "content-type": contentType });
    }
    expect(failures).toEqual([]);
  });
});

/**
 * The sweep above spoils whole bodies, so zod stops nearly all of it. Here one field at a time
 * of an otherwise valid body turns hostile, so what zod lets through reaches the services (and
 * some of it succeeds and moves points): still never a 5xx, and the ledger still balances.
 */
describe("no hostile field in an otherwise valid body yields a 5xx", () => {
  let s: World;
  beforeAll(async () => {
    s = await makeWorld();
  });

  let receipt = 0;
  // Called once when the cases are collected, for the keys only: `s` is made later, hence the `?.`.
  const validSale = () => ({ card: { number: s?.card.number }, receiptId: `sweep-${++receipt}`, amountMinor: 10_000, currency: "KRW", partnerId: s?.partner.id });
  const validItem = () => ({ sku: "A-1", category: "snacks", amountMinor: 10_000, quantity: 1 });
  const validEvent = () => ({
    eventId: `sweep-${++receipt}`,
    memberId: s?.member.id,
    kind: "satisfaction",
    channel: "app",
    occurredAt: "2026-03-02T08:00:00Z",
    partnerId: s?.partner.id,
    storeId: s?.storeId,
    amountMinor: 100,
    points: 1,
    reference: "R-1",
    score: 3,
    attributes: { agent: "A-1" },
  });
  /** Each way to spoil one field of a valid body: the top level, and the nested objects. */
  const spoilt = (base: () => Record<string, unknown>, nested: Record<string, () => Record<string, unknown>> = {}): Array<[string, () => unknown]> => [
    ...Object.keys(base()).flatMap((prop) => hostileValues.map((v) => [`${prop}=${JSON.stringify(v).slice(0, 20)}`, () => ({ ...base(), [prop]: v })] as [string, () => unknown])),
    ...Object.entries(nested).flatMap(([prop, inner]) =>
      Object.keys(inner()).flatMap((key) =>
        hostileValues.map((v) => {
          const make = () => {
            const body = base();
            const value = { ...inner(), [key]: v };
            return { ...body, [prop]: Array.isArray(body[prop]) ? [value] : value };
          };
          return [`${prop}.${key}=${JSON.stringify(v).slice(0, 20)}`, make] as [string, () => unknown];
        }),
      ),
    ),
  ];

  const targets: Array<[string, () => string, Array<[string, () => unknown]>]> = [
    ["POST /v1/purchases", () => "/v1/purchases", [
      ...spoilt(validSale, { card: () => ({ number: s?.card.number }), items: validItem }),
      ...spoilt(() => ({ ...validSale(), items: [validItem()] }), { items: validItem }),
      ...hostileValues.map((v) => [`card.token=${JSON.stringify(v).slice(0, 20)}`, () => ({ ...validSale(), card: { token: v } })] as [string, () => unknown]),
    ]],
    ["POST /v1/purchases/{purchaseId}/refunds", () => `/v1/purchases/${s.purchaseId}/refunds`, spoilt(() => ({ amountMinor: 1 }))],
    ["POST /v1/purchases/quote", () => "/v1/purchases/quote", spoilt(() => ({ ...validSale(), offerIds: [s?.offerId] }), { card: () => ({ number: s?.card.number }) })],
    ["POST /v1/offers", () => "/v1/offers", spoilt(() => ({ name: "sweep", partnerId: s?.partner.id, reward: { kind: "percent", percentBps: 1_000 }, conditions: { tiers: ["basic"] }, limits: { perMemberTotal: 2 }, budget: { count: 5 } }), {
      reward: () => ({ kind: "percent", percentBps: 1_000, maxDiscountMinor: 500 }),
      conditions: () => ({ minSpendMinor: 1_000, weekdays: [1, 2], hours: { from: "09:00", to: "18:00" }, categories: ["snacks"] }),
      limits: () => ({ perMemberPerDay: 1, perMemberTotal: 3 }),
      budget: () => ({ count: 5, amountMinor: 10_000 }),
    })],
    ["POST /v1/members/{memberId}/adjustments", () => `/v1/members/${s.member.id}/adjustments`, spoilt(() => ({ points: 1, reason: "sweep" }))],
    ["POST /v1/interactions", () => "/v1/interactions", spoilt(() => ({ events: [validEvent()] }), { events: validEvent })],
    ["PUT /v1/program", () => "/v1/program", spoilt(() => structuredClone(defaultProgram) as unknown as Record<string, unknown>, {
      earning: () => structuredClone(defaultProgram.earning) as unknown as Record<string, unknown>,
      expiry: () => ({ ...defaultProgram.expiry }),
      tiers: () => ({ ...defaultProgram.tiers[0]! }),
    })],
  ];

  it.each(targets)("%s", async (key, path, bodies) => {
    const method = key.split(" ")[0]!;
    const failures: string[] = [];
    for (const [label, body] of bodies) {
      const res = await s.t.call(method, path(), { body: body() });
      const type = res.headers.get("content-type") ?? "";
      if (res.status >= 500) failures.push(`${label}: ${res.status} ${await res.text()}`);
      else if (res.status >= 400 && type !== "application/problem+json") failures.push(`${label}: ${res.status} as ${type}`);
    }
    // Whatever the sweep left the rules as, a plain sale still goes through or is refused cleanly.
    await s.t.call("PUT", "/v1/program", { body: defaultProgram });
    expect(failures).toEqual([]);
  });

  it("and the ledger balances after it", async () => {
    await expectLedgerBalanced(s.t);
  });
});
