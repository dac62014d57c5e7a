/**
 * The authorization matrix: every route × every principal → allowed (the route's exact 2xx) or
 * denied (401 for no credential, 403 for the wrong one), as problem+json.
 *
 * The routes come from the generated OpenAPI document: a route added without a row here fails
 * the first test. Routes that change state act on objects made for the case, so no case depends
 * on another having run, and denied calls are checked to have changed nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createTestApp, type TestApp } from "../helpers/app.ts";
import { ACCESS, mayCall, PLAIN_ROUTES, ROLES, type Access, type Role } from "../support/access.ts";
import { adminJson, expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, givenStaff, memberToken, purchase } from "../helpers/factories.ts";

interface Subject {
  member: { id: string; email: string | null };
  card: { number: string } | null;
  /** The subject's member token, made on first use. */
  token(): Promise<string>;
}

interface World {
  t: TestApp;
  /** The member the member principal is: memberSelf acts on a, memberOther is a acting on b. */
  a: Subject;
  b: Subject;
  partner: { id: string; key: string; keyId: string };
  otherPartner: { id: string; key: string; keyId: string };
  adminStaff: { email: string; password: string; token: string };
  marketer: { email: string; password: string; token: string };
  /** A purchase partner recorded on a's card: what the read-only purchase routes look at. */
  purchaseId: string;
}

interface Ctx {
  w: World;
  role: Role;
  /** The member (and card) the request is about: the caller's own for memberSelf, someone else's for memberOther. */
  subject: Subject;
  /** Values made by the row's setup: path params by name, and anything its body needs. */
  vars: Record<string, string>;
}

/** How a route is exercised; who gets through is test/support/access.ts (the partner principal holds the default scopes). */
interface Row {
  /** The exact status an allowed call gets. */
  ok: 200 | 201 | 202 | 204;
  /** State-changing routes get a new member (with a card) per case. */
  fresh?: "member" | "memberWithCard";
  /** Makes what the case needs (with the admin token) before the call; returns path params and body inputs. */
  setup?: (ctx: Ctx) => Promise<Record<string, string>>;
  body?: (ctx: Ctx) => unknown;
  /** A query string the route needs (without the "?"). */
  query?: (ctx: Ctx) => string;
  /** After a denied call: what the route would have changed is as it was. */
  unchanged?: (ctx: Ctx) => Promise<void>;
}

let seq = 0;
const nextId = () => `${Date.now().toString(36)}-${(seq++).toString(36)}`;

async function newSubject(t: TestApp, withCard: boolean): Promise<Subject> {
  // Email only: phones from the member factory are random enough to collide across many members.
  const member = await givenMember(t, { phone: null });
  const card = withCard ? await givenCard(t, member.id) : null;
  let token: Promise<string> | undefined;
  return { member, card, token: () => (token ??= memberToken(t, member)) };
}

/** A new purchase by the partner principal's partner on the subject's card, for a case to mutate. */
async function newPurchase(ctx: Ctx): Promise<string> {
  const res = await expectStatus(await purchase(ctx.w.t, ctx.w.partner, ctx.subject.card!, { amountMinor: 10_000 }), 201);
  return ((await res.json()) as { purchaseId: string }).purchaseId;
}

/** A new store of the partner principal's partner, for a case to read or change. */
async function newStore({ w }: Ctx): Promise<Record<string, string>> {
  const store = await adminJson<{ id: string }>(w.t, "POST", `/v1/partners/${w.partner.id}/stores`, 201, { code: `S-${nextId()}`, name: "별빛시네마 홍대점" });
  return { storeId: store.id };
}

/** A new offer of the partner principal's partner, for a case to read or change. */
async function newOffer({ w }: Ctx): Promise<Record<string, string>> {
  // A reward paid in points: never applied on its own, so other cases' purchases stay as they are.
  const reward = { kind: "points_reward", pointsCost: 1_000, rewardValueMinor: 500 };
  const offer = await adminJson<{ id: string }>(w.t, "POST", "/v1/offers", 201, { partnerId: w.partner.id, name: `Offer ${nextId()}`, reward });
  return { offerId: offer.id };
}

/** A new segment, for a case to read, change or refresh. */
async function newSegment({ w }: Ctx): Promise<Record<string, string>> {
  const segment = await adminJson<{ id: string }>(w.t, "POST", "/v1/segments", 201, { name: `Segment ${nextId()}`, rule: { attr: "tier", op: "eq", value: "gold" } });
  return { segmentId: segment.id };
}

async function purchaseRecord(ctx: Ctx) {
  return adminJson<{ refundedMinor: number; status: string; pointsClawedBack: number }>(ctx.w.t, "GET", `/v1/purchases/${ctx.vars.purchaseId}`, 200);
}

/** The subject's points are untouched: no balance and no ledger movement. */
async function noPointsMoved(ctx: Ctx) {
  const id = ctx.subject.member.id;
  expect(await adminJson(ctx.w.t, "GET", `/v1/members/${id}/balance`, 200)).toMatchObject({ available: 0, pending: 0, owed: 0 });
  expect((await adminJson<{ items: unknown[] }>(ctx.w.t, "GET", `/v1/members/${id}/ledger`, 200)).items).toEqual([]);
}

/** The subject sets a PIN in the wallet, for a case to remove. */
async function givenSubjectPin({ w, subject }: Ctx): Promise<Record<string, string>> {
  await expectStatus(await w.t.call("PUT", "/v1/me/pin", { token: await subject.token(), body: { pin: "583071" } }), 204);
  return {};
}

async function pinOf(ctx: Ctx) {
  return (await adminJson<{ pin: { set: boolean; locked: boolean } }>(ctx.w.t, "GET", `/v1/members/${ctx.subject.member.id}`, 200)).pin;
}

async function cardStatus(ctx: Ctx) {
  return (await adminJson<{ status: string }>(ctx.w.t, "GET", `/v1/cards/${ctx.subject.card!.number}`, 200)).status;
}

/** The spec. Keys are "METHOD path" exactly as in the OpenAPI document. */
const matrix: Record<string, Row> = {
  // System: public, whatever the caller presents.
  "GET /health": { ok: 200 },
  "GET /.well-known/jwks.json": { ok: 200 },

  // Sign-in: public by nature.
  "POST /v1/auth/login": {
    ok: 200,
    body: ({ w }) => ({ email: w.marketer.email, password: w.marketer.password }),
  },
  "POST /v1/auth/member/start": {
    ok: 202,
    // Not enrolled: same answer, and no code, so no rate limit builds up across cases.
    body: () => ({ email: `not-enrolled-${nextId()}@example.com` }),
  },
  "POST /v1/auth/member/verify": {
    ok: 200,
    setup: async ({ w }) => {
      // A member of its own, so the outbox holds exactly one code for the address.
      const member = await givenMember(w.t, { phone: null });
      await expectStatus(await w.t.call("POST", "/v1/auth/member/start", { token: null, body: { email: member.email } }), 202);
      const page = await adminJson<{ items: { body: string }[] }>(w.t, "GET", `/v1/outbox?recipient=${encodeURIComponent(member.email!)}`, 200);
      expect(page.items).toHaveLength(1);
      return { email: member.email!, code: /\b(\d{6})\b/.exec(page.items[0]!.body)![1]! };
    },
    body: ({ vars }) => ({ email: vars.email, code: vars.code }),
  },

  // Staff accounts: admins only.
  "POST /v1/staff": {
    ok: 201,
    setup: async () => ({ email: `staff-${nextId()}@dangol.test` }),
    body: ({ vars }) => ({ email: vars.email, name: "New marketer", role: "marketer", password: "a long enough password" }),
    unchanged: async ({ w, vars }) => {
      const res = await w.t.call("POST", "/v1/auth/login", { token: null, body: { email: vars.email, password: "a long enough password" } });
      expect(res.status).toBe(401);
    },
  },
  "GET /v1/staff": { ok: 200 },

  // Members: staff read, admins write, a member reads and edits only itself.
  "POST /v1/members": {
    ok: 201,
    setup: async () => ({ email: `enrol-${nextId()}@example.com` }),
    body: ({ vars }) => ({ name: "이서연", email: vars.email }),
    unchanged: async ({ w, vars }) => {
      const page = await adminJson<{ items: unknown[] }>(w.t, "GET", `/v1/members?q=${encodeURIComponent(vars.email!)}`, 200);
      expect(page.items).toEqual([]);
    },
  },
  "GET /v1/members": { ok: 200 },
  "GET /v1/members/{memberId}": { ok: 200 },
  "PATCH /v1/members/{memberId}": {
    ok: 200,
    fresh: "member",
    body: () => ({ region: "서울 마포구" }),
    unchanged: async ({ w, subject }) => {
      expect((await adminJson<{ region: string | null }>(w.t, "GET", `/v1/members/${subject.member.id}`, 200)).region).toBeNull();
    },
  },

  // Cards.
  "POST /v1/members/{memberId}/cards": {
    ok: 201,
    fresh: "member",
    unchanged: async ({ w, subject }) => {
      expect((await adminJson<{ items: unknown[] }>(w.t, "GET", `/v1/members/${subject.member.id}/cards`, 200)).items).toEqual([]);
    },
  },
  "GET /v1/members/{memberId}/cards": { ok: 200 },
  "POST /v1/cards/verify": {
    ok: 200,
    body: ({ w }) => ({ cardNumber: w.a.card!.number }),
  },
  "GET /v1/cards/{cardNumber}": { ok: 200 },
  "POST /v1/cards/{cardNumber}/block": {
    ok: 200,
    fresh: "memberWithCard",
    body: () => ({ reason: "lost" }),
    unchanged: async (ctx) => expect(await cardStatus(ctx)).toBe("active"),
  },
  "POST /v1/cards/{cardNumber}/unblock": {
    ok: 200,
    fresh: "memberWithCard",
    setup: async ({ w, subject }) => {
      await adminJson(w.t, "POST", `/v1/cards/${subject.card!.number}/block`, 200, { reason: "blocked" });
      return {};
    },
    unchanged: async (ctx) => expect(await cardStatus(ctx)).toBe("blocked"),
  },
  "POST /v1/cards/{cardNumber}/replace": {
    ok: 201,
    fresh: "memberWithCard",
    unchanged: async (ctx) => expect(await cardStatus(ctx)).toBe("active"),
  },

  // Member self-service: members only (a staff credential has no card to show).
  "GET /v1/me": { ok: 200 },
  "GET /v1/me/card/token": { ok: 200 },
  "GET /v1/me/card/qr.svg": { ok: 200 },
  "GET /v1/me/card/qr.png": { ok: 200 },
  // The PIN: a member sets and removes only their own; an admin may only clear one.
  "PUT /v1/me/pin": {
    ok: 204,
    fresh: "member",
    body: () => ({ pin: "583071" }),
  },
  "DELETE /v1/me/pin": {
    ok: 204,
    fresh: "member",
    setup: givenSubjectPin,
    unchanged: async (ctx) => expect(await pinOf(ctx)).toEqual({ set: true, locked: false }),
  },
  "DELETE /v1/members/{memberId}/pin": {
    ok: 204,
    fresh: "member",
    setup: givenSubjectPin,
    unchanged: async (ctx) => expect(await pinOf(ctx)).toEqual({ set: true, locked: false }),
  },

  // Partners: admins manage, staff list, a partner key reads only its own partner.
  "POST /v1/partners": {
    ok: 201,
    body: () => ({ name: "달빛베이커리 합정", category: "bakery" }),
  },
  "GET /v1/partners": { ok: 200 },
  "GET /v1/partners/{partnerId}": { ok: 200 },
  "POST /v1/partners/{partnerId}/keys": {
    ok: 201,
    setup: async () => ({ keyName: `POS ${nextId()}` }),
    body: ({ vars }) => ({ name: vars.keyName, scopes: ["cards:verify"] }),
    unchanged: async ({ w, vars }) => {
      const keys = await adminJson<{ items: { name: string }[] }>(w.t, "GET", `/v1/partners/${w.partner.id}/keys?limit=100`, 200);
      expect(keys.items.map((k) => k.name)).not.toContain(vars.keyName);
    },
  },
  "GET /v1/partners/{partnerId}/keys": { ok: 200 },
  "POST /v1/partners/{partnerId}/keys/{keyId}/revoke": {
    ok: 200,
    setup: async ({ w }) => {
      // Never the partner principal's own key: a key made for this case.
      const key = await adminJson<{ id: string }>(w.t, "POST", `/v1/partners/${w.partner.id}/keys`, 201, { name: "to revoke" });
      return { keyId: key.id };
    },
    unchanged: async ({ w, vars }) => {
      const keys = await adminJson<{ items: { id: string; revokedAt: string | null }[] }>(w.t, "GET", `/v1/partners/${w.partner.id}/keys?limit=100`, 200);
      expect(keys.items.find((k) => k.id === vars.keyId)?.revokedAt).toBeNull();
    },
  },
  "PATCH /v1/partners/{partnerId}": {
    ok: 200,
    // A partner of its own per case: never the partner principal's (a suspension would lock it out).
    setup: async ({ w }) => ({ partnerId: (await adminJson<{ id: string }>(w.t, "POST", "/v1/partners", 201, { name: "달빛베이커리 합정", category: "bakery" })).id }),
    body: () => ({ name: "달빛베이커리 망원", settlement: { pointCostMilli: 1200 } }),
    unchanged: async ({ w, vars }) => {
      expect(await adminJson(w.t, "GET", `/v1/partners/${vars.partnerId}`, 200)).toMatchObject({ name: "달빛베이커리 합정", settlement: { pointCostMilli: 1000 } });
    },
  },

  // Stores: admins manage, staff read, a partner key reads its own partner's.
  "POST /v1/partners/{partnerId}/stores": {
    ok: 201,
    setup: async () => ({ storeCode: `S-${nextId()}` }),
    body: ({ vars }) => ({ code: vars.storeCode, name: "별빛시네마 홍대점" }),
    unchanged: async ({ w, vars }) => {
      const stores = await adminJson<{ items: { code: string }[] }>(w.t, "GET", `/v1/partners/${w.partner.id}/stores?limit=100`, 200);
      expect(stores.items.map((s) => s.code)).not.toContain(vars.storeCode);
    },
  },
  "GET /v1/partners/{partnerId}/stores": { ok: 200 },
  "GET /v1/partners/{partnerId}/stores/{storeId}": { ok: 200, setup: newStore },
  "PATCH /v1/partners/{partnerId}/stores/{storeId}": {
    ok: 200,
    setup: newStore,
    body: () => ({ status: "closed" }),
    unchanged: async ({ w, vars }) => {
      expect((await adminJson<{ status: string }>(w.t, "GET", `/v1/partners/${w.partner.id}/stores/${vars.storeId}`, 200)).status).toBe("active");
    },
  },

  // Purchases: a partner's till records, reads and refunds its own; admins act for any partner
  // (naming it); marketers may read. Another partner's purchase is a 404 (see cross-tenant below).
  "POST /v1/purchases": {
    ok: 201,
    fresh: "memberWithCard",
    setup: async () => ({ receiptId: `auth-${nextId()}` }),
    // Staff must name the partner; the partner key's own partner is implied. Every non-partner
    // caller names it, so a denial is about the role, never a missing field.
    body: ({ w, role, subject, vars }) => ({
      card: { number: subject.card!.number },
      receiptId: vars.receiptId,
      amountMinor: 10_000,
      currency: "KRW",
      ...(role === "partner" ? {} : { partnerId: w.partner.id }),
    }),
    unchanged: noPointsMoved,
  },
  "GET /v1/purchases/{purchaseId}": { ok: 200 },
  "POST /v1/purchases/{purchaseId}/refunds": {
    ok: 201,
    fresh: "memberWithCard",
    setup: async (ctx) => ({ purchaseId: await newPurchase(ctx) }),
    body: () => ({ amountMinor: 4_000 }),
    unchanged: async (ctx) => {
      expect(await purchaseRecord(ctx)).toMatchObject({ refundedMinor: 0, status: "completed", pointsClawedBack: 0 });
      expect(await adminJson(ctx.w.t, "GET", `/v1/members/${ctx.subject.member.id}/balance`, 200)).toMatchObject({ available: 100 });
    },
  },
  "POST /v1/purchases/{purchaseId}/void": {
    ok: 201,
    fresh: "memberWithCard",
    setup: async (ctx) => ({ purchaseId: await newPurchase(ctx) }),
    unchanged: async (ctx) => {
      expect(await purchaseRecord(ctx)).toMatchObject({ refundedMinor: 0, status: "completed", pointsClawedBack: 0 });
      expect(await adminJson(ctx.w.t, "GET", `/v1/members/${ctx.subject.member.id}/balance`, 200)).toMatchObject({ available: 100 });
    },
  },

  // Settlement: staff read any partner's statements. A partner key needs statements:read, which
  // the partner principal's key (default scopes) lacks; test/node/statements.test.ts covers keys with it.
  "GET /v1/partners/{partnerId}/statements/{month}": { ok: 200, setup: async () => ({ month: "2026-03" }) },

  // Offers: admins create and manage any (a partner key needs offers:write, which the partner
  // principal's key lacks: see the offers tests); staff read; a partner reads its own and the operator's.
  "POST /v1/offers": {
    ok: 201,
    setup: async () => ({ offerName: `Offer ${nextId()}` }),
    // Rewards paid in points are never applied on their own, so no other case's purchase changes.
    body: ({ vars }) => ({ name: vars.offerName, reward: { kind: "points_reward", pointsCost: 1_000, rewardValueMinor: 500 } }),
    unchanged: async ({ w, vars }) => {
      const offers = await adminJson<{ items: { name: string }[] }>(w.t, "GET", "/v1/offers?limit=100", 200);
      expect(offers.items.map((o) => o.name)).not.toContain(vars.offerName);
    },
  },
  "GET /v1/offers": { ok: 200 },
  "GET /v1/offers/{offerId}": { ok: 200, setup: newOffer },
  "PATCH /v1/offers/{offerId}": {
    ok: 200,
    setup: newOffer,
    body: () => ({ status: "paused" }),
    unchanged: async ({ w, vars }) => {
      expect((await adminJson<{ status: string }>(w.t, "GET", `/v1/offers/${vars.offerId}`, 200)).status).toBe("active");
    },
  },
  "GET /v1/members/{memberId}/offers": { ok: 200 },
  // The 360 view holds contact details: staff (saying why) and the member itself, never a partner.
  "GET /v1/members/{memberId}/profile": { ok: 200, query: () => "reason=support_call" },
  // Interactions: admins send events (a partner key needs interactions:write, which the partner
  // principal's key lacks: see test/node/interactions.test.ts); staff and the member itself read them.
  "POST /v1/interactions": {
    ok: 200,
    fresh: "member",
    setup: async () => ({ eventId: `auth-${nextId()}` }),
    body: ({ subject, vars }) => ({ events: [{ eventId: vars.eventId, memberId: subject.member.id, kind: "call", channel: "call_centre", occurredAt: "2026-03-02T08:00:00Z" }] }),
    unchanged: async ({ w, subject }) => {
      expect((await adminJson<{ items: unknown[] }>(w.t, "GET", `/v1/members/${subject.member.id}/interactions?kind=call`, 200)).items).toEqual([]);
    },
  },
  "GET /v1/members/{memberId}/interactions": { ok: 200 },
  "POST /v1/purchases/quote": {
    ok: 200,
    fresh: "memberWithCard",
    body: ({ w, role, subject }) => ({
      card: { number: subject.card!.number },
      receiptId: `quote-${nextId()}`,
      amountMinor: 10_000,
      currency: "KRW",
      ...(role === "partner" ? {} : { partnerId: w.partner.id }),
    }),
    unchanged: noPointsMoved,
  },

  // Segments: staff preview, save, read, change and refresh them; never a partner or a member.
  "POST /v1/segments/preview": { ok: 200, body: () => ({ rule: { attr: "tier", op: "eq", value: "gold" } }) },
  "POST /v1/segments": {
    ok: 201,
    setup: async () => ({ segmentName: `Segment ${nextId()}` }),
    body: ({ vars }) => ({ name: vars.segmentName, rule: { attr: "tier", op: "eq", value: "gold" } }),
    unchanged: async ({ w, vars }) => {
      const page = await adminJson<{ items: { name: string }[] }>(w.t, "GET", "/v1/segments?limit=100", 200);
      expect(page.items.map((s) => s.name)).not.toContain(vars.segmentName);
    },
  },
  "GET /v1/segments": { ok: 200 },
  "GET /v1/segments/{segmentId}": { ok: 200, setup: newSegment },
  "PATCH /v1/segments/{segmentId}": {
    ok: 200,
    setup: newSegment,
    body: () => ({ name: "Renamed" }),
    unchanged: async ({ w, vars }) => {
      expect((await adminJson<{ name: string }>(w.t, "GET", `/v1/segments/${vars.segmentId}`, 200)).name).not.toBe("Renamed");
    },
  },
  "GET /v1/segments/{segmentId}/members": { ok: 200, setup: newSegment },
  "POST /v1/segments/{segmentId}/refresh": { ok: 200, setup: newSegment },
  // Custom member attributes: admins declare keys and set values; staff read; a member reads its own.
  "GET /v1/custom-attributes": { ok: 200 },
  "PUT /v1/custom-attributes/{key}": {
    ok: 200,
    setup: async () => ({ key: `k_${nextId().replace(/[^a-z0-9]/g, "_")}` }),
    body: () => ({ type: "text" }),
    unchanged: async ({ w, vars }) => {
      const declared = await adminJson<{ items: { key: string }[] }>(w.t, "GET", "/v1/custom-attributes", 200);
      expect(declared.items.map((a) => a.key)).not.toContain(vars.key);
    },
  },
  "GET /v1/members/{memberId}/attributes": { ok: 200 },
  "PUT /v1/members/{memberId}/attributes": {
    ok: 200,
    fresh: "member",
    setup: async ({ w }) => {
      await adminJson(w.t, "PUT", "/v1/custom-attributes/occupation", 200, { type: "text" });
      return {};
    },
    body: () => ({ attributes: { occupation: "engineer" } }),
    unchanged: async ({ w, subject }) => {
      expect(await adminJson(w.t, "GET", `/v1/members/${subject.member.id}/attributes`, 200)).toEqual({ memberId: subject.member.id, attributes: {} });
    },
  },

  // Points: staff and the member itself read; only admins adjust.
  "GET /v1/members/{memberId}/balance": { ok: 200 },
  "GET /v1/members/{memberId}/ledger": { ok: 200 },
  "GET /v1/members/{memberId}/tier": { ok: 200 },
  "POST /v1/members/{memberId}/adjustments": {
    ok: 201,
    fresh: "member",
    body: () => ({ points: 500, reason: "goodwill for a broken till" }),
    unchanged: noPointsMoved,
  },

  // The program's rules: staff read, admins replace.
  "GET /v1/program": { ok: 200 },
  "PUT /v1/program": {
    ok: 200,
    setup: async ({ w }) => {
      const current = await adminJson<{ version: number; program: unknown }>(w.t, "GET", "/v1/program", 200);
      return { version: String(current.version), program: JSON.stringify(current.program) };
    },
    // The rules in force, sent back unchanged: a new version that earns exactly as before.
    body: ({ vars }) => JSON.parse(vars.program!) as unknown,
    unchanged: async ({ w, vars }) => {
      expect((await adminJson<{ version: number }>(w.t, "GET", "/v1/program", 200)).version).toBe(Number(vars.version));
    },
  },

  // Operations: admins only. The outbox holds sign-in codes.
  "GET /v1/outbox": { ok: 200 },
  "GET /v1/admin/signing-keys": { ok: 200 },
  "POST /v1/admin/signing-keys/rotate": { ok: 201 },
  "POST /v1/jobs/points": { ok: 200 },
  "POST /v1/jobs/recompute": { ok: 200 },
  // Analytics: aggregates over the whole base, for staff only.
  "GET /v1/analytics/rfm": { ok: 200 },
  "GET /v1/analytics/pareto": { ok: 200 },
  "GET /v1/analytics/clv": { ok: 200 },
  "GET /v1/admin/ledger/check": { ok: 200 },
  "DELETE /v1/admin/signing-keys/{kid}": {
    ok: 204,
    setup: async ({ w }) => {
      // Rotate twice and remove the middle key: it never signed anything, so every credential
      // in this file keeps verifying.
      const middle = await adminJson<{ kid: string }>(w.t, "POST", "/v1/admin/signing-keys/rotate", 201);
      await adminJson(w.t, "POST", "/v1/admin/signing-keys/rotate", 201);
      return { kid: middle.kid };
    },
    unchanged: async ({ w, vars }) => {
      const ring = await adminJson<{ items: { kid: string }[] }>(w.t, "GET", "/v1/admin/signing-keys?limit=100", 200);
      expect(ring.items.map((k) => k.kid)).toContain(vars.kid);
    },
  },
};

/** Plain Hono routes outside the OpenAPI document: the document itself and Swagger UI. */
const plainRoutes: Record<string, Row> = {
  "GET /openapi.json": { ok: 200 },
  "GET /docs": { ok: 200 },
  "GET /docs/init.js": { ok: 200 },
};

const accessOf = (key: string): Access => ACCESS[key] ?? PLAIN_ROUTES[key]!;

let w: World;

beforeAll(async () => {
  const t = await createTestApp();
  const [a, b] = [await newSubject(t, true), await newSubject(t, true)];
  await a.token();
  const partner = await givenPartner(t, "별빛시네마 강남");
  const recorded = await expectStatus(await purchase(t, partner, a.card!, { amountMinor: 10_000 }), 201);
  w = {
    t,
    a,
    b,
    partner,
    otherPartner: await givenPartner(t, "한빛서점 종로"),
    adminStaff: await givenStaff(t, "admin"),
    marketer: await givenStaff(t, "marketer"),
    purchaseId: ((await recorded.json()) as { purchaseId: string }).purchaseId,
  };
});

async function subjectFor(row: Row, role: Role): Promise<Subject> {
  if (row.fresh) return newSubject(w.t, row.fresh === "memberWithCard");
  return role === "memberOther" ? w.b : w.a;
}

async function tokenOf(role: Role, subject: Subject): Promise<string | null> {
  switch (role) {
    case "anonymous":
      return null;
    case "admin":
      return ADMIN_TOKEN;
    case "adminStaff":
      return w.adminStaff.token;
    case "marketer":
      return w.marketer.token;
    case "partner":
      return w.partner.key;
    case "memberSelf":
      return subject.token();
    case "memberOther":
      // Member a, acting on somebody else's record.
      return w.a.token();
  }
}

function fillPath(template: string, ctx: Ctx): string {
  const defaults: Record<string, () => string> = {
    memberId: () => ctx.subject.member.id,
    cardNumber: () => ctx.subject.card!.number,
    partnerId: () => w.partner.id,
    purchaseId: () => w.purchaseId,
  };
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = ctx.vars[name] ?? defaults[name]?.();
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
    return encodeURIComponent(value);
  });
}

/** A denial: 401 unauthorized without a (valid) credential, 403 forbidden with the wrong one. */
async function expectDenied(res: Response, code: "unauthorized" | "forbidden") {
  const status = code === "unauthorized" ? 401 : 403;
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const problem = JSON.parse(text) as { code: string; status: number; requestId: string };
  expect(problem).toMatchObject({ code, status });
  expect(problem.requestId).toEqual(expect.any(String));
}

function expectation(key: string, row: Row, role: Role): string {
  if (mayCall(accessOf(key), role)) return `allowed (${row.ok})`;
  return role === "anonymous" ? "denied (401)" : "denied (403)";
}

async function runCase(key: string, row: Row, role: Role) {
  const [method, template] = key.split(" ") as [string, string];
  const subject = await subjectFor(row, role);
  // The credential first: a member token goes through the outbox, and setups may use it too.
  const token = await tokenOf(role, subject);
  const ctx: Ctx = { w, role, subject, vars: {} };
  ctx.vars = (await row.setup?.(ctx)) ?? {};
  const body = row.body?.(ctx);
  const query = row.query?.(ctx);
  const res = await w.t.call(method, `${fillPath(template, ctx)}${query ? `?${query}` : ""}`, { token, ...(body === undefined ? {} : { body }) });
  if (mayCall(accessOf(key), role)) {
    const text = await res.clone().text();
    expect(res.status, text).toBe(row.ok);
    expect(res.headers.get("content-type") ?? "").not.toContain("problem+json");
  } else {
    await expectDenied(res, role === "anonymous" ? "unauthorized" : "forbidden");
    await row.unchanged?.(ctx);
  }
}

describe("the matrix covers the API", () => {
  it("has exactly one row per operation in the OpenAPI document", async () => {
    const doc = (await (await w.t.call("GET", "/openapi.json", { token: null })).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(Object.keys(matrix).sort());
    expect(Object.keys(ACCESS).sort()).toEqual(documented);
  });

  it("marks as public exactly the operations the document declares without security, and documents 401/403 on the rest", async () => {
    const doc = (await (await w.t.call("GET", "/openapi.json", { token: null })).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const row = matrix[`${method.toUpperCase()} ${path}`];
        if (!row) continue; // the test above names it
        const isPublic = accessOf(`${method.toUpperCase()} ${path}`).allow.includes("anonymous");
        expect({ route: `${method.toUpperCase()} ${path}`, secured: op.security !== undefined }).toEqual({ route: `${method.toUpperCase()} ${path}`, secured: !isPublic });
        if (!isPublic) expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["401", "403"]));
      }
    }
  });
});

describe.each(Object.entries({ ...matrix, ...plainRoutes }))("%s", (key, row) => {
  it.each(ROLES.map((role) => [role, expectation(key, row, role)] as const))("%s → %s", async (role) => {
    await runCase(key, row, role);
  });
});

describe("credentials that are not what they claim", () => {
  it("a card token from GET /v1/me/card/token is not a bearer credential", async () => {
    const minted = await tokenJson<{ token: string }>("GET", "/v1/me/card/token", await w.a.token());
    for (const [method, path] of [
      ["GET", "/v1/me"],
      ["GET", `/v1/members/${w.a.member.id}`],
      ["GET", `/v1/cards/${w.a.card!.number}`],
    ] as const) {
      await expectDenied(await w.t.call(method, path, { token: minted.token }), "unauthorized");
    }
    await expectDenied(await w.t.call("POST", "/v1/cards/verify", { token: minted.token, body: { token: minted.token } }), "unauthorized");
  });

  it("a revoked partner key is a 401, and was a 200 just before", async () => {
    const key = await adminJson<{ id: string; key: string }>(w.t, "POST", `/v1/partners/${w.partner.id}/keys`, 201, { name: "soon revoked" });
    await expectStatus(await w.t.call("GET", `/v1/partners/${w.partner.id}`, { token: key.key }), 200);
    await adminJson(w.t, "POST", `/v1/partners/${w.partner.id}/keys/${key.id}/revoke`, 200);
    await expectDenied(await w.t.call("GET", `/v1/partners/${w.partner.id}`, { token: key.key }), "unauthorized");
    await expectDenied(await w.t.call("POST", "/v1/cards/verify", { token: key.key, body: { cardNumber: w.a.card!.number } }), "unauthorized");
  });

  it("a partner key without the purchases:write scope may not record, refund or void purchases", async () => {
    const key = await adminJson<{ key: string }>(w.t, "POST", `/v1/partners/${w.partner.id}/keys`, 201, { name: "verify only", scopes: ["cards:verify"] });
    const subject = await newSubject(w.t, true);
    await expectDenied(await purchase(w.t, key, subject.card!, { amountMinor: 10_000 }), "forbidden");
    const recorded = await expectStatus(await purchase(w.t, w.partner, subject.card!, { amountMinor: 10_000 }), 201);
    const { purchaseId } = (await recorded.json()) as { purchaseId: string };
    await expectDenied(await w.t.call("POST", `/v1/purchases/${purchaseId}/refunds`, { token: key.key, body: { amountMinor: 1_000 } }), "forbidden");
    await expectDenied(await w.t.call("POST", `/v1/purchases/${purchaseId}/void`, { token: key.key }), "forbidden");
    expect(await adminJson(w.t, "GET", `/v1/purchases/${purchaseId}`, 200)).toMatchObject({ refundedMinor: 0, status: "completed" });
    expect(await adminJson(w.t, "GET", `/v1/members/${subject.member.id}/balance`, 200)).toMatchObject({ available: 100 });
  });

  it("a partner key without the cards:verify scope may not verify cards", async () => {
    const key = await adminJson<{ key: string }>(w.t, "POST", `/v1/partners/${w.partner.id}/keys`, 201, { name: "statements only", scopes: ["statements:read"] });
    await expectDenied(await w.t.call("POST", "/v1/cards/verify", { token: key.key, body: { cardNumber: w.a.card!.number } }), "forbidden");
  });

  const tamper = (token: string) => `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
  const malformed: Array<[string, () => string]> = [
    ["Basic credentials", () => "Basic YWRtaW46YWRtaW4="],
    ["the scheme alone", () => "Bearer"],
    ["two tokens", () => `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
    ["another scheme", () => `Token ${ADMIN_TOKEN}`],
    ["the token without a scheme", () => ADMIN_TOKEN],
    ["an unknown opaque token", () => "Bearer not-a-real-token"],
    ["the admin token with a byte more", () => `Bearer ${ADMIN_TOKEN}x`],
    ["an unknown partner key", () => "Bearer dg_pk_0000000000000000000000000000"],
    ["three dots of garbage", () => "Bearer a.b.c"],
    ["an unsigned JWT", () => `Bearer ${btoa(JSON.stringify({ alg: "none", typ: "dangol-staff+jwt" })).replace(/=+$/, "")}.${btoa(JSON.stringify({ sub: "x" })).replace(/=+$/, "")}.`],
    ["a staff session with a tampered signature", () => `Bearer ${tamper(w.adminStaff.token)}`],
  ];

  it.each(malformed)("a malformed Authorization header (%s) is a 401 on a protected route", async (_, header) => {
    const res = await w.t.call("GET", "/v1/members", { token: null, headers: { authorization: header() } });
    await expectDenied(res, "unauthorized");
  });

  it.each(malformed)("a malformed Authorization header (%s) does not lock out GET /health", async (_, header) => {
    await expectStatus(await w.t.call("GET", "/health", { token: null, headers: { authorization: header() } }), 200);
  });
});

describe("cross-tenant reads", () => {
  it("a member may not read another member", async () => {
    await expectDenied(await w.t.call("GET", `/v1/members/${w.b.member.id}`, { token: await w.a.token() }), "forbidden");
  });

  it("a member probing an id that does not exist gets the same 403, not a 404", async () => {
    await expectDenied(await w.t.call("GET", "/v1/members/mem_00000000000000000000000000", { token: await w.a.token() }), "forbidden");
  });

  it("a member may not read another member's card", async () => {
    await expectDenied(await w.t.call("GET", `/v1/cards/${w.b.card!.number}`, { token: await w.a.token() }), "forbidden");
  });

  it("a partner may not read members' personal data", async () => {
    await expectDenied(await w.t.call("GET", "/v1/members", { token: w.partner.key }), "forbidden");
    await expectDenied(await w.t.call("GET", `/v1/members/${w.a.member.id}`, { token: w.partner.key }), "forbidden");
    await expectDenied(await w.t.call("GET", `/v1/members/${w.a.member.id}/cards`, { token: w.partner.key }), "forbidden");
    await expectDenied(await w.t.call("GET", `/v1/cards/${w.a.card!.number}`, { token: w.partner.key }), "forbidden");
  });

  it("a partner may not read another partner or its stores, nor find out whether one exists", async () => {
    await expectStatus(await w.t.call("GET", `/v1/partners/${w.otherPartner.id}`, { token: w.otherPartner.key }), 200);
    // Another partner answers exactly as an id never issued: a 404, as for purchases.
    const missing = "prt_00000000000000000000000000";
    const other = await w.t.call("GET", `/v1/partners/${w.otherPartner.id}`, { token: w.partner.key });
    const never = await w.t.call("GET", `/v1/partners/${missing}`, { token: w.partner.key });
    expect([other.status, never.status]).toEqual([404, 404]);
    const shape = (p: Record<string, unknown>, id: string) => JSON.stringify({ ...p, requestId: undefined, detail: String(p.detail).replace(id, "ID") });
    expect(shape((await other.json()) as Record<string, unknown>, w.otherPartner.id)).toBe(shape((await never.json()) as Record<string, unknown>, missing));
    await expectStatus(await w.t.call("GET", `/v1/partners/${w.otherPartner.id}/stores`, { token: w.partner.key }), 404);
    await expectDenied(await w.t.call("GET", `/v1/partners/${w.otherPartner.id}/keys`, { token: w.partner.key }), "forbidden");
  });

  it("a partner may not read, change or use another partner's offers; admin may read them", async () => {
    const theirs = await adminJson<{ id: string }>(w.t, "POST", "/v1/offers", 201, {
      partnerId: w.otherPartner.id,
      name: `Theirs ${nextId()}`,
      reward: { kind: "points_reward", pointsCost: 1, rewardValueMinor: 100 },
    });
    await expectStatus(await w.t.call("GET", `/v1/offers/${theirs.id}`, { token: w.otherPartner.key }), 200);
    await expectStatus(await w.t.call("GET", `/v1/offers/${theirs.id}`), 200);
    await expectStatus(await w.t.call("GET", `/v1/offers/${theirs.id}`, { token: w.partner.key }), 404);
    await expectStatus(await w.t.call("PATCH", `/v1/offers/${theirs.id}`, { token: w.partner.key, body: { status: "ended" } }), 404);
    const listed = (await (await expectStatus(await w.t.call("GET", "/v1/offers?limit=100", { token: w.partner.key }), 200)).json()) as { items: { id: string }[] };
    expect(listed.items.map((o) => o.id)).not.toContain(theirs.id);
    const subject = await newSubject(w.t, true);
    await adminJson(w.t, "POST", `/v1/members/${subject.member.id}/adjustments`, 201, { points: 10, reason: "to try their reward" });
    const used = await purchase(w.t, w.partner, subject.card!, { amountMinor: 1_000, offerIds: [theirs.id] });
    expect(used.status).toBe(422);
    expect((await adminJson<{ budget: { usedCount: number } }>(w.t, "GET", `/v1/offers/${theirs.id}`, 200)).budget.usedCount).toBe(0);
    expect(await adminJson(w.t, "GET", `/v1/members/${subject.member.id}/balance`, 200)).toMatchObject({ available: 10 });
  });

  it("a member probing the balance or ledger of an id that does not exist gets a 403, not a 404", async () => {
    for (const route of ["balance", "ledger"]) {
      await expectDenied(await w.t.call("GET", `/v1/members/mem_00000000000000000000000000/${route}`, { token: await w.a.token() }), "forbidden");
    }
  });

  it("a partner may not read members' points", async () => {
    await expectDenied(await w.t.call("GET", `/v1/members/${w.a.member.id}/balance`, { token: w.partner.key }), "forbidden");
    await expectDenied(await w.t.call("GET", `/v1/members/${w.a.member.id}/ledger`, { token: w.partner.key }), "forbidden");
  });

  /** A 404 not_found problem, exactly as for a purchase that does not exist. */
  async function expectNoSuchPurchase(res: Response, purchaseId: string) {
    const text = await res.text();
    expect(res.status, text).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = JSON.parse(text) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: "not_found", status: 404 });
    // Nothing in the answer tells a recorded purchase from an id never issued.
    const missing = "pur_00000000000000000000000000";
    const never = (await (await w.t.call("GET", `/v1/purchases/${missing}`, { token: w.otherPartner.key })).json()) as Record<string, unknown>;
    const shape = (p: Record<string, unknown>, id: string) => JSON.stringify({ ...p, requestId: undefined, detail: String(p.detail).replace(id, "ID") });
    expect(shape(problem, purchaseId)).toBe(shape(never, missing));
  }

  it("a partner may not read another partner's purchase, nor find out that it exists", async () => {
    await expectStatus(await w.t.call("GET", `/v1/purchases/${w.purchaseId}`, { token: w.partner.key }), 200);
    await expectNoSuchPurchase(await w.t.call("GET", `/v1/purchases/${w.purchaseId}`, { token: w.otherPartner.key }), w.purchaseId);
  });

  it("a partner may not refund or void another partner's purchase, and it stays as it was", async () => {
    const subject = await newSubject(w.t, true);
    const recorded = await expectStatus(await purchase(w.t, w.partner, subject.card!, { amountMinor: 10_000 }), 201);
    const { purchaseId } = (await recorded.json()) as { purchaseId: string };
    await expectNoSuchPurchase(await w.t.call("POST", `/v1/purchases/${purchaseId}/refunds`, { token: w.otherPartner.key, body: { amountMinor: 1_000 } }), purchaseId);
    await expectNoSuchPurchase(await w.t.call("POST", `/v1/purchases/${purchaseId}/void`, { token: w.otherPartner.key }), purchaseId);
    // With an Idempotency-Key too: the stored refusal is the same 404.
    const headers = { "idempotency-key": `other-${nextId()}` };
    await expectNoSuchPurchase(await w.t.call("POST", `/v1/purchases/${purchaseId}/void`, { token: w.otherPartner.key, headers }), purchaseId);
    expect(await adminJson(w.t, "GET", `/v1/purchases/${purchaseId}`, 200)).toMatchObject({ refundedMinor: 0, status: "completed", pointsClawedBack: 0 });
    expect(await adminJson(w.t, "GET", `/v1/members/${subject.member.id}/balance`, 200)).toMatchObject({ available: 100 });
  });

  it("a partner may not record a purchase for another partner, and no points move", async () => {
    const subject = await newSubject(w.t, true);
    await expectDenied(await purchase(w.t, w.partner, subject.card!, { amountMinor: 10_000, partnerId: w.otherPartner.id }), "forbidden");
    expect(await adminJson(w.t, "GET", `/v1/members/${subject.member.id}/balance`, 200)).toMatchObject({ available: 0, pending: 0 });
    // Naming its own partner is fine.
    await expectStatus(await purchase(w.t, w.partner, subject.card!, { amountMinor: 10_000, partnerId: w.partner.id }), 201);
  });

  it("staff must name the partner a purchase is for", async () => {
    const subject = await newSubject(w.t, true);
    const res = await w.t.call("POST", "/v1/purchases", {
      token: w.adminStaff.token,
      body: { card: { number: subject.card!.number }, receiptId: `staff-${nextId()}`, amountMinor: 10_000, currency: "KRW" },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "partnerId" }] });
  });

  it("a member may not block another member's card, and the card stays active", async () => {
    const other = await newSubject(w.t, true);
    await expectDenied(await w.t.call("POST", `/v1/cards/${other.card!.number}/block`, { token: await w.a.token(), body: { reason: "lost" } }), "forbidden");
    expect((await adminJson<{ status: string }>(w.t, "GET", `/v1/cards/${other.card!.number}`, 200)).status).toBe("active");
  });
});

/** A call that must succeed, with a non-admin token. */
async function tokenJson<T>(method: string, path: string, token: string): Promise<T> {
  const res = await expectStatus(await w.t.call(method, path, { token }), 200);
  return (await res.json()) as T;
}

describe("the ledger after every case above", () => {
  it("holds every invariant", async () => {
    await expectLedgerBalanced(w.t);
    expect(await adminJson(w.t, "GET", "/v1/admin/ledger/check", 200)).toEqual({ ok: true, violations: [] });
  });
});
