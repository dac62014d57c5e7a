/**
 * The fuzzer's world: a fresh app with two of everything — partner P (whose keys the partner roles
 * hold, one per scope) and partner Q (a stranger), member A (whom the member role signs in as) and
 * member B — so that every request can name its own objects or somebody else's, and the oracle
 * knows which.
 */
import { mintCardToken } from "../../src/services/cards/card-tokens.ts";
import { ADMIN_TOKEN, createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { adminJson, expectStatus, givenCard, givenMember, givenStaff, memberToken } from "../helpers/factories.ts";
import { partnerScopes, type PartnerScope, type Role } from "../support/access.ts";
import type { Random } from "./random.ts";
import { NO_HINT, OMIT, type Schema } from "./values.ts";

/** The credentials a request can carry. */
export const FUZZ_ROLES = ["none", "garbage", "admin", "adminStaff", "marketer", "member", ...partnerScopes.map((s) => `partner:${s}` as const), "partner:all"] as const;
export type FuzzRole = (typeof FUZZ_ROLES)[number];

export interface World {
  t: TestApp;
  credential(role: FuzzRole, rng: Random): string | null;
  /** The scopes a partner role's key holds. */
  scopesOf(role: FuzzRole): readonly PartnerScope[];
  /** The access-table role a fuzz role is, before ownership is looked at. */
  accessRole(role: FuzzRole): Role;
  /** Values of partner Q's objects (ids), which no key of P may succeed on. */
  foreignToPartner: ReadonlySet<string>;
  /** Member B's id and card number, which member A may never succeed on or see (emails change hands: staff edit them). */
  foreignToMember: ReadonlySet<string>;
  /** Objects shared by the whole program (the operator's offer): partners read them, never change them. */
  operatorOwned: ReadonlySet<string>;
  /** Ids of other tenants and ids never issued, for the foreign-id bend. */
  foreignIds: readonly string[];
  /** A value for a field or parameter of this name, in a request to the operation ("METHOD path"). */
  hint(name: string, schema: Schema, rng: Random, operation: string): unknown;
}

const MISSING = {
  member: "mem_00000000000000000000000000",
  partner: "prt_00000000000000000000000000",
  store: "sto_00000000000000000000000000",
  offer: "off_00000000000000000000000000",
  purchase: "pur_00000000000000000000000000",
  segment: "seg_00000000000000000000000000",
  key: "pk_00000000000000000000000000",
  kid: "kid-missing",
  card: "9999999999999999",
};

const PIN = "583071";

const RULES = [
  { attr: "tier", op: "eq", value: "basic" },
  { all: [{ attr: "balance", op: "gte", value: 100 }, { attr: "consent.email", op: "eq", value: true }] },
  { any: [{ attr: "region", op: "in", value: ["서울 마포구", "부산 해운대구"] }, { not: { attr: "age", op: "lt", value: 30 } }] },
  { attr: "rfm.r", op: "between", value: [1, 3] },
];

async function partnerWithObjects(t: TestApp, name: string) {
  const partner = await adminJson<{ id: string }>(t, "POST", "/v1/partners", 201, { name, category: "cinema" });
  const store = await adminJson<{ id: string }>(t, "POST", `/v1/partners/${partner.id}/stores`, 201, { code: "S-1", name: `${name} 1호점` });
  const offer = await adminJson<{ id: string }>(t, "POST", "/v1/offers", 201, { partnerId: partner.id, name: `${name} 10% 할인`, reward: { kind: "percent", percentBps: 1_000 } });
  const keys: Partial<Record<PartnerScope | "all", string>> = {};
  for (const scope of [...partnerScopes, "all"] as const) {
    const scopes = scope === "all" ? [...partnerScopes] : [scope];
    keys[scope] = (await adminJson<{ key: string }>(t, "POST", `/v1/partners/${partner.id}/keys`, 201, { name: `POS ${scope}`, scopes })).key;
  }
  const spareKey = await adminJson<{ id: string }>(t, "POST", `/v1/partners/${partner.id}/keys`, 201, { name: "spare" });
  return { id: partner.id, storeId: store.id, offerId: offer.id, keys, spareKeyId: spareKey.id, purchaseIds: [] as string[] };
}

export async function createWorld(): Promise<World> {
  const t = await createTestApp();
  const P = await partnerWithObjects(t, "별빛시네마");
  const Q = await partnerWithObjects(t, "한빛서점");
  const operatorOffer = await adminJson<{ id: string }>(t, "POST", "/v1/offers", 201, { name: "전 가맹점 1,000원 할인", reward: { kind: "amount", amountMinor: 1_000 } });
  const people = [];
  for (const name of ["김민준", "이서연", "박지훈"]) {
    const member = await givenMember(t, { name, phone: null });
    const card = await givenCard(t, member.id);
    await adminJson(t, "POST", `/v1/members/${member.id}/adjustments`, 201, { points: 50_000, reason: "fuzz world" });
    people.push({ id: member.id, email: member.email!, number: card.number, token: await memberToken(t, member) });
  }
  // A is the member role; B a stranger to it; C a bystander whose card the card-state calls wear out.
  const [A, B, C] = people as [(typeof people)[number], (typeof people)[number], (typeof people)[number]];
  await expectStatus(await t.call("PUT", "/v1/me/pin", { token: A.token, body: { pin: PIN } }), 204);
  let receipt = 0;
  for (const [partner, member] of [[P, A], [P, B], [P, A], [Q, A], [Q, B]] as const) {
    const sale = { card: { number: member.number }, receiptId: `seed-${++receipt}`, amountMinor: 20_000, currency: "KRW", storeId: partner.storeId };
    partner.purchaseIds.push((await adminJson<{ purchaseId: string }>(t, "POST", "/v1/purchases", 201, sale, partner.keys.all!)).purchaseId);
  }
  const program = (await adminJson<{ program: Record<string, unknown> }>(t, "GET", "/v1/program", 200)).program;
  const segment = await adminJson<{ id: string }>(t, "POST", "/v1/segments", 201, { name: "기본 등급", rule: RULES[0] });
  await adminJson(t, "PUT", "/v1/custom-attributes/occupation", 200, { type: "text" });
  const adminStaff = await givenStaff(t, "admin");
  const marketer = await givenStaff(t, "marketer");
  // Every token above is signed by the first key: the spare (rotated out, never signing) may be deleted.
  const spareKid = (await adminJson<{ kid: string }>(t, "POST", "/v1/admin/signing-keys/rotate", 201)).kid;
  await adminJson(t, "POST", "/v1/admin/signing-keys/rotate", 201);
  // A sign-in code waiting for C, so that the fuzzer's verify calls can succeed too.
  await expectStatus(await t.call("POST", "/v1/auth/member/start", { token: null, body: { email: C.email } }), 202);
  const sent = await adminJson<{ items: { body: string }[] }>(t, "GET", `/v1/outbox?recipient=${encodeURIComponent(C.email)}&limit=1`, 200);
  const codeForC = /\b(\d{6})\b/.exec(sent.items[0]!.body)![1]!;
  const cardTokens = { A: [] as string[], B: [] as string[] };
  for (let i = 0; i < 20; i++) {
    cardTokens.A.push((await mintCardToken(t.deps, A.id)).token);
    cardTokens.B.push((await mintCardToken(t.deps, B.id)).token);
  }

  const foreignToPartner = new Set([Q.id, Q.storeId, Q.offerId, Q.spareKeyId, ...Q.purchaseIds]);
  const foreignToMember = new Set([B.id, B.number]);
  const pools: Record<string, readonly unknown[]> = {
    memberId: [A.id, A.id, B.id, MISSING.member],
    cardNumber: [A.number, A.number, B.number, MISSING.card],
    partnerId: [P.id, P.id, Q.id, MISSING.partner],
    storeId: [P.storeId, P.storeId, Q.storeId, MISSING.store],
    offerId: [P.offerId, operatorOffer.id, Q.offerId, MISSING.offer],
    purchaseId: [...P.purchaseIds, Q.purchaseIds[0]!, MISSING.purchase],
    segmentId: [segment.id, segment.id, MISSING.segment],
    keyId: [P.spareKeyId, Q.spareKeyId, MISSING.key],
    // Not the key in force: a rotation by the fuzzer would retire it, and deleting it would void every card token.
    kid: [spareKid, MISSING.kid],
    email: [A.email, B.email, C.email, marketer.email, "nobody@example.com"],
    code: [codeForC, "000000"],
    recipient: [A.email, B.email],
    password: [marketer.password, "wrong password 123"],
    phone: ["01012345678", "+82 10-9876-5432", "010-0000"],
    currency: ["KRW", "KRW", "KRW", "KRW", "KRW", "KRW", "USD"],
    month: ["2026-03", "2026-02", "2025-12"],
    key: ["occupation", "occupation", "fav_genre"],
    reason: ["support_call", "marketing_review"],
    rule: RULES,
    pin: [PIN, PIN, "1234", "000000"],
    points: [500, -500, 3_000, 0, -100_000],
    amountMinor: [10_000, 20_000, 5_000, 0, 1_500],
    limit: [1, 20, 100],
    name: ["박지훈", "Olivia Park", "별빛시네마 홍대점"],
    q: ["김", A.email, "없는사람"],
    kind: ["purchase", "call", "visit"],
  };
  let unique = 0;
  const cardOf = (rng: Random) => {
    const person = rng.chance(0.7) ? "A" : "B";
    const { number } = person === "A" ? A : B;
    const roll = rng.next();
    if (roll < 0.45) return { token: rng.pick(cardTokens[person]) };
    if (roll < 0.8) return { number };
    return { number, pin: rng.pick(pools.pin!) };
  };

  return {
    t,
    credential(role, rng) {
      switch (role) {
        case "none":
          return null;
        case "garbage":
          return rng.pick(["Bearer not-a-token", `Bearer ${ADMIN_TOKEN}x`, "Bearer dg_pk_0000000000000000000000000000", "Basic YWRtaW46YWRtaW4=", `Bearer ${A.token.slice(0, -3)}AAA`, "Bearer a.b.c", "Bearer"]);
        case "admin":
          return `Bearer ${ADMIN_TOKEN}`;
        case "adminStaff":
          return `Bearer ${adminStaff.token}`;
        case "marketer":
          return `Bearer ${marketer.token}`;
        case "member":
          return `Bearer ${A.token}`;
        default:
          return `Bearer ${P.keys[role.slice("partner:".length) as PartnerScope | "all"]}`;
      }
    },
    scopesOf: (role) => (role === "partner:all" ? partnerScopes : role.startsWith("partner:") ? [role.slice("partner:".length) as PartnerScope] : []),
    accessRole(role) {
      if (role === "none" || role === "garbage") return "anonymous";
      if (role === "member") return "memberSelf";
      return role.startsWith("partner:") ? "partner" : (role as Role);
    },
    foreignToPartner,
    foreignToMember,
    operatorOwned: new Set([operatorOffer.id]),
    foreignIds: [...foreignToPartner, B.id, B.number, ...Object.values(MISSING)],
    // A copy every time: mutations bend the values they are given.
    hint: (name, schema, rng, operation) => {
      const value = hintFor(name, schema, rng, operation);
      return typeof value === "object" && value !== null ? structuredClone(value) : value;
    },
  };

  function hintFor(name: string, schema: Schema, rng: Random, operation: string): unknown {
      if (name === "card") return cardOf(rng);
      // Blocking and replacing wear cards out: mostly C's, so A's and B's stay usable at the till.
      if (name === "cardNumber" && /\/(block|unblock|replace)$/.test(operation)) return rng.chance(0.8) ? C.number : rng.pick(pools.cardNumber!);
      // Optional parts a till usually leaves out, so the rest of a sale is valid more often.
      if (name === "items" || name === "storeId") return rng.chance(0.75) ? OMIT : name === "storeId" ? rng.pick(pools.storeId!) : NO_HINT;
      if (name === "redeemPoints") return rng.chance(0.6) ? OMIT : rng.pick([500, 1_000, 60_000]);
      if (name === "offerIds") return rng.chance(0.5) ? OMIT : [rng.pick(pools.offerId!)];
      if (name === "attributes") return { occupation: rng.pick(["engineer", "교사"]) };
      if (name === "body:PUT /v1/program") return rng.chance(0.7) ? { ...program, earning: { ...(program.earning as object), baseRateBps: rng.int(0, 500) } } : NO_HINT;
      if (name === "token" && schema.type === "string") return rng.pick(rng.chance(0.7) ? cardTokens.A : cardTokens.B);
      if (name === "receiptId") return rng.chance(0.9) ? `R-${++unique}` : "seed-1";
      if (name === "eventId") return `ev-${++unique}`;
      if (name === "idempotency-key") return `k-${rng.int(0, 30)}`;
      if (name.endsWith("At") && schema.type === "string") return new Date(T0 - rng.int(0, 25 * 86_400_000)).toISOString();
      const pool = pools[name];
      return pool && rng.chance(0.9) ? rng.pick(pool) : NO_HINT;
  }
}
