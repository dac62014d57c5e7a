import { createHash } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../src/errors.ts";
import { signToken } from "../../src/lib/jwt.ts";
import { ensureAdminToken, MEMBER_TOKEN_TYP, STAFF_TOKEN_TYP } from "../../src/services/auth/auth.ts";
import { ADMIN_TOKEN, createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenMember, givenPartner, givenStaff, memberToken } from "../helpers/factories.ts";


interface OutboxMessage {
  id: string;
  memberId: string | null;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  kind: string;
  status: string;
  provider: string | null;
  createdAt: string;
  sentAt: string | null;
}

const MINUTE = 60_000;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function problem(res: Response, status: number): Promise<Problem> {
  await expectStatus(res, status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return (await res.json()) as Problem;
}

/** A staff-only route: 200 for an admin credential. */
const adminRoute = (t: TestApp, token: string | null) => t.call("GET", "/v1/staff", { token });

function outboxCount(t: TestApp): number {
  return (t.database.sqlite.prepare("select count(*) as n from outbox").get() as { n: number }).n;
}

async function outboxFor(t: TestApp, recipient: string): Promise<OutboxMessage[]> {
  const res = await expectStatus(await t.call("GET", `/v1/outbox?recipient=${encodeURIComponent(recipient)}`), 200);
  return ((await res.json()) as { items: OutboxMessage[] }).items;
}

function codeIn(message: OutboxMessage | undefined): string {
  const match = /\b(\d{6})\b/.exec(message?.body ?? "");
  if (!match) throw new Error(`no code in ${message?.body}`);
  return match[1]!;
}

/** A six-digit code that is certainly not `code`. */
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

async function start(t: TestApp, contact: { email: string } | { phone: string }) {
  return t.call("POST", "/v1/auth/member/start", { token: null, body: contact });
}

async function verify(t: TestApp, body: Record<string, string>) {
  return t.call("POST", "/v1/auth/member/verify", { token: null, body });
}

/** Starts a sign-in by email and returns the code that was sent. */
async function codeFor(t: TestApp, email: string): Promise<string> {
  await expectStatus(await start(t, { email }), 202);
  return codeIn((await outboxFor(t, email))[0]);
}

describe("staff sign-in", () => {
  it("gives a session token that works on an admin route", async () => {
    const t = await createTestApp();
    await expectStatus(await t.call("POST", "/v1/staff", { body: { email: "ops@dangol.test", name: "Ops", role: "admin", password: "correct horse battery staple" } }), 201);
    const res = await expectStatus(await t.call("POST", "/v1/auth/login", { token: null, body: { email: "ops@dangol.test", password: "correct horse battery staple" } }), 200);
    const session = (await res.json()) as { token: string; expiresAt: string; role: string; staffId: string };
    expect(session).toEqual({
      token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: new Date(t.clock.now + 3600_000).toISOString(),
      role: "admin",
      staffId: expect.stringMatching(/^stf_/),
    });
    expect(decodeProtectedHeader(session.token)).toMatchObject({ alg: "EdDSA", typ: STAFF_TOKEN_TYP });
    await expectStatus(await adminRoute(t, session.token), 200);
  });

  it("accepts the email in any case", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    await expectStatus(await t.call("POST", "/v1/auth/login", { token: null, body: { email: staff.email.toUpperCase(), password: staff.password } }), 200);
  });

  it("gives a marketer a session that admin-only routes refuse (403)", async () => {
    const t = await createTestApp();
    const marketer = await givenStaff(t, "marketer");
    expect((await problem(await adminRoute(t, marketer.token), 403)).code).toBe("forbidden");
    await expectStatus(await t.call("GET", "/v1/members", { token: marketer.token }), 200);
  });

  it("answers a wrong password and an unknown email alike: 401 invalid_credentials", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    const wrongPassword = await problem(await t.call("POST", "/v1/auth/login", { token: null, body: { email: staff.email, password: "not the password" } }), 401);
    const unknownEmail = await problem(await t.call("POST", "/v1/auth/login", { token: null, body: { email: "nobody@dangol.test", password: staff.password } }), 401);
    expect(wrongPassword.code).toBe("invalid_credentials");
    const { requestId: a, ...first } = wrongPassword;
    const { requestId: b, ...second } = unknownEmail;
    expect(second).toEqual(first);
    expect(Object.keys(unknownEmail).sort()).toEqual(Object.keys(wrongPassword).sort());
    expect(a).not.toBe(b);
  });

  it("expires a session after SESSION_TTL_SECONDS (default 3600)", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    t.clock.advance(3599_000);
    await expectStatus(await adminRoute(t, staff.token), 200);
    t.clock.advance(1_000);
    const p = await problem(await adminRoute(t, staff.token), 401);
    expect(p.code).toBe("unauthorized");
    t.clock.advance(86_400_000);
    expect((await problem(await adminRoute(t, staff.token), 401)).code).toBe("unauthorized");
  });

  it("honours a configured SESSION_TTL_SECONDS", async () => {
    const t = await createTestApp({ SESSION_TTL_SECONDS: "120" });
    const staff = await givenStaff(t, "admin");
    t.clock.advance(119_000);
    await expectStatus(await adminRoute(t, staff.token), 200);
    t.clock.advance(1_000);
    await problem(await adminRoute(t, staff.token), 401);
  });

  it("refuses the session of a disabled staff user, and their sign-in", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    await expectStatus(await adminRoute(t, staff.token), 200);
    t.database.sqlite.prepare("update staff_users set status = 'disabled' where email = ?").run(staff.email);
    expect((await problem(await adminRoute(t, staff.token), 401)).code).toBe("unauthorized");
    const login = await problem(await t.call("POST", "/v1/auth/login", { token: null, body: { email: staff.email, password: staff.password } }), 401);
    expect(login.code).toBe("invalid_credentials");
  });

  it("refuses a well-signed session whose subject is no staff user", async () => {
    const t = await createTestApp();
    const { kid, key } = await t.deps.keys.signingKey();
    const nowS = Math.floor(t.clock.now / 1000);
    const token = await signToken({ kid, key, typ: STAFF_TOKEN_TYP, claims: { sub: "stf_01JD0000000000000000000000" }, issuedAtS: nowS, expiresAtS: nowS + 600 });
    expect((await problem(await adminRoute(t, token), 401)).code).toBe("unauthorized");
  });

  it("refuses a session that claims a longer life than SESSION_TTL_SECONDS", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    const staffId = (t.database.sqlite.prepare("select id from staff_users where email = ?").get(staff.email) as { id: string }).id;
    const { kid, key } = await t.deps.keys.signingKey();
    const nowS = Math.floor(t.clock.now / 1000);
    const token = await signToken({ kid, key, typ: STAFF_TOKEN_TYP, claims: { sub: staffId }, issuedAtS: nowS, expiresAtS: nowS + 30 * 86_400 });
    await problem(await adminRoute(t, token), 401);
  });

  it("does not take a member token as a staff session", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const token = await memberToken(t, member);
    expect((await problem(await adminRoute(t, token), 403)).code).toBe("forbidden");
  });

  it("refuses an unknown bearer credential and a malformed header with 401", async () => {
    const t = await createTestApp();
    expect((await problem(await adminRoute(t, "not-a-credential"), 401)).code).toBe("unauthorized");
    expect((await problem(await adminRoute(t, null), 401)).code).toBe("unauthorized");
    const res = await t.call("GET", "/v1/staff", { token: null, headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
    expect((await problem(res, 401)).code).toBe("unauthorized");
  });
});

describe("member one-time codes", () => {
  it("sends a six-digit code through the outbox", async () => {
    const t = await createTestApp();
    const member = await givenMember(t, { email: "minjun@example.com" });
    t.clock.advance(5_000);
    const res = await expectStatus(await start(t, { email: "minjun@example.com" }), 202);
    expect(await res.json()).toEqual({ status: "sent" });
    const messages = await outboxFor(t, "minjun@example.com");
    expect(messages).toHaveLength(1);
    const at = new Date(t.clock.now).toISOString();
    expect(messages[0]).toEqual({
      id: expect.stringMatching(/^msg_/),
      memberId: member.id,
      channel: "email",
      recipient: "minjun@example.com",
      subject: expect.any(String),
      body: expect.stringMatching(/\b\d{6}\b/),
      kind: "sign_in_code",
      status: "sent",
      provider: "dev",
      createdAt: at,
      sentAt: at,
    });
  });

  it("answers 202 for an unknown contact too, and sends nothing", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const before = outboxCount(t);
    const known = await expectStatus(await start(t, { email: "minjun@example.com" }), 202);
    const unknown = await expectStatus(await start(t, { email: "stranger@example.com" }), 202);
    const unknownPhone = await expectStatus(await start(t, { phone: "010-9876-5432" }), 202);
    expect(await unknown.json()).toEqual(await known.json());
    expect(await unknownPhone.json()).toEqual({ status: "sent" });
    expect(outboxCount(t)).toBe(before + 1);
    expect(await outboxFor(t, "stranger@example.com")).toEqual([]);
    expect(await outboxFor(t, "+821098765432")).toEqual([]);
    const otps = t.database.sqlite.prepare("select count(*) as n from otp_codes").get() as { n: number };
    expect(otps.n).toBe(1);
  });

  it("exchanges the right code for a member token that works on /v1/me", async () => {
    const t = await createTestApp();
    const member = await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    const res = await expectStatus(await verify(t, { email: "minjun@example.com", code }), 200);
    const session = (await res.json()) as { token: string; expiresAt: string; memberId: string };
    expect(session).toEqual({ token: expect.any(String), expiresAt: new Date(t.clock.now + 7 * 86_400_000).toISOString(), memberId: member.id });
    expect(decodeProtectedHeader(session.token)).toMatchObject({ alg: "EdDSA", typ: MEMBER_TOKEN_TYP });
    const me = await expectStatus(await t.call("GET", "/v1/me", { token: session.token }), 200);
    expect(((await me.json()) as { id: string }).id).toBe(member.id);
  });

  it("matches the email in any case", async () => {
    const t = await createTestApp();
    const member = await givenMember(t, { email: "minjun@example.com" });
    await expectStatus(await start(t, { email: "MinJun@Example.com" }), 202);
    const code = codeIn((await outboxFor(t, "minjun@example.com"))[0]);
    const res = await expectStatus(await verify(t, { email: "MINJUN@EXAMPLE.COM", code }), 200);
    expect(((await res.json()) as { memberId: string }).memberId).toBe(member.id);
  });

  it("refuses a wrong code with 401 otp_invalid", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    const p = await problem(await verify(t, { email: "minjun@example.com", code: wrongCode(code) }), 401);
    expect(p.code).toBe("otp_invalid");
    // One wrong try does not burn the code.
    await expectStatus(await verify(t, { email: "minjun@example.com", code }), 200);
  });

  it("accepts the right code after four wrong ones", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    for (let i = 0; i < 4; i++) await problem(await verify(t, { email: "minjun@example.com", code: wrongCode(code) }), 401);
    await expectStatus(await verify(t, { email: "minjun@example.com", code }), 200);
  });

  it("locks the code after five wrong tries: even the right code then fails", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    for (let i = 0; i < 5; i++) {
      expect((await problem(await verify(t, { email: "minjun@example.com", code: wrongCode(code) }), 401)).code).toBe("otp_invalid");
    }
    expect((await problem(await verify(t, { email: "minjun@example.com", code }), 401)).code).toBe("otp_invalid");
    // More wrong tries keep failing cleanly (no 500 from the attempts ceiling).
    expect((await problem(await verify(t, { email: "minjun@example.com", code: wrongCode(code) }), 401)).code).toBe("otp_invalid");
  });

  it("counts wrong codes sent together: 15 at once, then the right one, is still locked (issue 11, finding 2)", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    for (let batch = 0; batch < 5; batch++) {
      t.clock.advance(60_000);
      const code = await codeFor(t, "minjun@example.com");
      const wrong = await Promise.all(Array.from({ length: 15 }, () => verify(t, { email: "minjun@example.com", code: wrongCode(code) })));
      expect(wrong.map((r) => r.status)).toEqual(Array(15).fill(401));
      expect((await problem(await verify(t, { email: "minjun@example.com", code }), 401)).code).toBe("otp_invalid");
      const attempts = t.database.sqlite.prepare("SELECT attempts FROM otp_codes ORDER BY created_at DESC LIMIT 1").pluck().get();
      expect(attempts).toBe(5);
    }
  });

  it("lets a new code work after the old one was locked", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const first = await codeFor(t, "minjun@example.com");
    for (let i = 0; i < 5; i++) await problem(await verify(t, { email: "minjun@example.com", code: wrongCode(first) }), 401);
    t.clock.advance(1000);
    const second = await codeFor(t, "minjun@example.com");
    await expectStatus(await verify(t, { email: "minjun@example.com", code: second }), 200);
  });

  it("expires a code after 10 minutes", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    t.clock.advance(10 * MINUTE);
    expect((await problem(await verify(t, { email: "minjun@example.com", code }), 401)).code).toBe("otp_invalid");
  });

  it("still accepts a code just before 10 minutes", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    t.clock.advance(10 * MINUTE - 1);
    await expectStatus(await verify(t, { email: "minjun@example.com", code }), 200);
  });

  it("accepts a code once", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    await expectStatus(await verify(t, { email: "minjun@example.com", code }), 200);
    expect((await problem(await verify(t, { email: "minjun@example.com", code }), 401)).code).toBe("otp_invalid");
  });

  it("refuses a code for a contact that never got one", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    expect((await problem(await verify(t, { email: "stranger@example.com", code }), 401)).code).toBe("otp_invalid");
  });

  it("refuses a malformed code as a validation failure", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    expect((await problem(await verify(t, { email: "minjun@example.com", code: "12345" }), 400)).code).toBe("validation_failed");
    expect((await problem(await verify(t, { email: "minjun@example.com", code: "abcdef" }), 400)).code).toBe("validation_failed");
  });

  it("sends a contact at most five codes in 15 minutes, answering 202 all the same", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    for (let i = 0; i < 5; i++) {
      await expectStatus(await start(t, { email: "minjun@example.com" }), 202);
      t.clock.advance(MINUTE);
    }
    // Past the limit the answer is the one an unknown contact gets, so it reveals no enrolment.
    const limited = await expectStatus(await start(t, { email: "minjun@example.com" }), 202);
    const unknown = await expectStatus(await start(t, { email: "nobody@example.com" }), 202);
    expect(await limited.json()).toEqual(await unknown.json());
    expect(await outboxFor(t, "minjun@example.com")).toHaveLength(5);
    // Another contact is not affected.
    await givenMember(t, { email: "seoyeon@example.com" });
    await expectStatus(await start(t, { email: "seoyeon@example.com" }), 202);
    expect(await outboxFor(t, "seoyeon@example.com")).toHaveLength(1);
    // Once the first code leaves the window a new one is sent.
    t.clock.advance(11 * MINUTE);
    await expectStatus(await start(t, { email: "minjun@example.com" }), 202);
    expect(await outboxFor(t, "minjun@example.com")).toHaveLength(6);
  });

  it("accepts only the latest code, and an earlier one never comes back", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const first = await codeFor(t, "minjun@example.com");
    t.clock.advance(1000);
    const second = await codeFor(t, "minjun@example.com");
    if (first !== second) {
      expect((await problem(await verify(t, { email: "minjun@example.com", code: first }), 401)).code).toBe("otp_invalid");
    }
    await expectStatus(await verify(t, { email: "minjun@example.com", code: second }), 200);
    expect((await problem(await verify(t, { email: "minjun@example.com", code: first }), 401)).code).toBe("otp_invalid");
  });

  it("lets only one of two simultaneous verifications with the same code succeed", async () => {
    const t = await createTestApp();
    await givenMember(t, { email: "minjun@example.com" });
    const code = await codeFor(t, "minjun@example.com");
    const results = await Promise.all([verify(t, { email: "minjun@example.com", code }), verify(t, { email: "minjun@example.com", code })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("signs in by phone, whichever way the number is written", async () => {
    const t = await createTestApp();
    const member = await givenMember(t, { email: null, phone: "010-1234-5678" });
    await expectStatus(await start(t, { phone: "010-1234-5678" }), 202);
    const messages = await outboxFor(t, "+821012345678");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ channel: "sms", recipient: "+821012345678", memberId: member.id, status: "sent", provider: "dev" });
    expect(await outboxFor(t, "010-1234-5678")).toEqual(messages);
    const res = await expectStatus(await verify(t, { phone: "+82 10 1234 5678", code: codeIn(messages[0]) }), 200);
    const { token, memberId } = (await res.json()) as { token: string; memberId: string };
    expect(memberId).toBe(member.id);
    await expectStatus(await t.call("GET", "/v1/me", { token }), 200);
  });

  it("rejects an invalid phone number", async () => {
    const t = await createTestApp();
    expect((await problem(await start(t, { phone: "12ab" }), 400)).code).toBe("validation_failed");
  });
});

describe("partner API keys", () => {
  it("shows the key once and stores only its SHA-256", async () => {
    const t = await createTestApp();
    const partnerRes = await expectStatus(await t.call("POST", "/v1/partners", { body: { name: "별빛시네마 강남", category: "cinema" } }), 201);
    const partnerId = ((await partnerRes.json()) as { id: string }).id;
    const res = await expectStatus(await t.call("POST", `/v1/partners/${partnerId}/keys`, { body: { name: "POS 1", scopes: ["cards:verify"] } }), 201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const created = (await res.json()) as { id: string; key: string; prefix: string; scopes: string[]; revokedAt: string | null };
    expect(created.key).toMatch(/^dg_pk_[\w-]{32}$/);
    expect(created.prefix).toBe(created.key.slice(0, 10));
    expect(created.scopes).toEqual(["cards:verify"]);
    expect(created.revokedAt).toBeNull();

    const listRes = await expectStatus(await t.call("GET", `/v1/partners/${partnerId}/keys`), 200);
    const listText = await listRes.text();
    expect(listText).not.toContain(created.key);
    const list = JSON.parse(listText) as { items: Record<string, unknown>[] };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).not.toHaveProperty("key");
    expect(list.items[0]).not.toHaveProperty("keyHash");
    expect(list.items[0]).toMatchObject({ id: created.id, prefix: created.prefix, name: "POS 1" });

    const row = t.database.sqlite.prepare("select * from partner_api_keys where id = ?").get(created.id) as Record<string, unknown>;
    expect(row.key_hash).not.toBe(created.key);
    expect(row.key_hash).toBe(sha256(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);

    await expectStatus(await t.call("GET", `/v1/partners/${partnerId}`, { token: created.key }), 200);
  });

  it("stops working at once when revoked, while other keys keep working", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    const otherRes = await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS 2" } }), 201);
    const other = (await otherRes.json()) as { key: string };
    await expectStatus(await t.call("GET", `/v1/partners/${partner.id}`, { token: partner.key }), 200);

    t.clock.advance(MINUTE);
    const revoked = await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/keys/${partner.keyId}/revoke`), 200);
    expect(((await revoked.json()) as { revokedAt: string }).revokedAt).toBe(new Date(t.clock.now).toISOString());

    expect((await problem(await t.call("GET", `/v1/partners/${partner.id}`, { token: partner.key }), 401)).code).toBe("unauthorized");
    expect((await problem(await t.call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: "9410000000000000" } }), 401)).code).toBe("unauthorized");
    await expectStatus(await t.call("GET", `/v1/partners/${partner.id}`, { token: other.key }), 200);

    const list = (await (await t.call("GET", `/v1/partners/${partner.id}/keys`)).json()) as { items: Array<{ id: string; revokedAt: string | null }> };
    expect(list.items.find((k) => k.id === partner.keyId)?.revokedAt).toBe(new Date(t.clock.now).toISOString());
  });

  it("refuses a made-up key with the right prefix", async () => {
    const t = await createTestApp();
    const partner = await givenPartner(t);
    expect((await problem(await t.call("GET", `/v1/partners/${partner.id}`, { token: `${partner.key}x` }), 401)).code).toBe("unauthorized");
  });
});

describe("signing key rotation", () => {
  async function jwks(t: TestApp) {
    const res = await expectStatus(await t.call("GET", "/.well-known/jwks.json", { token: null }), 200);
    return ((await res.json()) as { keys: Array<{ kid: string; kty: string; crv: string; x: string; d?: string }> }).keys;
  }

  it("keeps old tokens working until the retired key is removed", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const before = await jwks(t);
    expect(before).toHaveLength(1);
    const oldKid = before[0]!.kid;
    expect(before[0]).not.toHaveProperty("d");

    const oldToken = await memberToken(t, member);
    expect(decodeProtectedHeader(oldToken).kid).toBe(oldKid);

    t.clock.advance(MINUTE);
    const rotated = await expectStatus(await t.call("POST", "/v1/admin/signing-keys/rotate"), 201);
    const { kid: newKid } = (await rotated.json()) as { kid: string };
    expect(newKid).not.toBe(oldKid);

    const during = await jwks(t);
    expect(during.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect(during.every((k) => k.d === undefined)).toBe(true);
    const listed = (await (await t.call("GET", "/v1/admin/signing-keys")).json()) as { items: Array<{ kid: string; status: string }> };
    expect(Object.fromEntries(listed.items.map((k) => [k.kid, k.status]))).toEqual({ [oldKid]: "retired", [newKid]: "active" });

    await expectStatus(await t.call("GET", "/v1/me", { token: oldToken }), 200);
    t.clock.advance(1000);
    const newToken = await memberToken(t, member);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    const staff = await givenStaff(t, "admin");
    expect(decodeProtectedHeader(staff.token).kid).toBe(newKid);

    t.clock.advance(MINUTE);
    await expectStatus(await t.call("DELETE", `/v1/admin/signing-keys/${oldKid}`), 204);
    expect((await problem(await t.call("GET", "/v1/me", { token: oldToken }), 401)).code).toBe("unauthorized");
    await expectStatus(await t.call("GET", "/v1/me", { token: newToken }), 200);
    const after = await jwks(t);
    expect(after.map((k) => k.kid)).toEqual([newKid]);
  });

  it("refuses to remove the active key (409 signing_key_in_use)", async () => {
    const t = await createTestApp();
    const [active] = await jwks(t);
    const p = await problem(await t.call("DELETE", `/v1/admin/signing-keys/${active!.kid}`), 409);
    expect(p.code).toBe("signing_key_in_use");
    expect(await jwks(t)).toHaveLength(1);
    const member = await givenMember(t);
    await memberToken(t, member);
  });

  it("answers 404 for an unknown kid", async () => {
    const t = await createTestApp();
    expect((await problem(await t.call("DELETE", "/v1/admin/signing-keys/nope"), 404)).code).toBe("not_found");
  });
});

describe("the generated ADMIN_TOKEN", () => {
  async function appWithoutAdminToken() {
    // parseConfig treats an empty string as unset, so this is a database whose config has no ADMIN_TOKEN.
    const t = await createTestApp({ ADMIN_TOKEN: "" });
    expect(t.deps.config.ADMIN_TOKEN).toBeUndefined();
    return t;
  }

  it("is generated once, stored only as its SHA-256, and authenticates as admin", async () => {
    const t = await appWithoutAdminToken();
    expect((await problem(await adminRoute(t, ADMIN_TOKEN), 401)).code).toBe("unauthorized");

    const token = await ensureAdminToken(t.deps);
    expect(token).toMatch(/^dg_admin_[\w-]{43}$/);

    const rows = t.database.sqlite.prepare("select * from settings").all() as Array<{ key: string; value: string }>;
    expect(JSON.stringify(rows)).not.toContain(token!);
    expect(rows.map((r) => r.value)).toContain(sha256(token!));

    expect(await ensureAdminToken(t.deps)).toBeNull();
    const again = t.database.sqlite.prepare("select * from settings").all();
    expect(again).toEqual(rows);

    await expectStatus(await adminRoute(t, token), 200);
    const member = await expectStatus(await t.call("POST", "/v1/members", { token, body: { name: "김민준", email: "minjun@example.com" } }), 201);
    expect(member.status).toBe(201);
    expect((await problem(await adminRoute(t, `${token}x`), 401)).code).toBe("unauthorized");
    expect((await problem(await adminRoute(t, "dg_admin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401)).code).toBe("unauthorized");
  });

  it("is not generated when ADMIN_TOKEN is configured", async () => {
    const t = await createTestApp();
    expect(await ensureAdminToken(t.deps)).toBeNull();
    const rows = t.database.sqlite.prepare("select count(*) as n from settings").get() as { n: number };
    expect(rows.n).toBe(0);
  });
});
