import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus } from "../helpers/factories.ts";

interface LogLine {
  time: string;
  level: string;
  msg: string;
  requestId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  [key: string]: unknown;
}

interface Sent {
  method: string;
  path: string;
  status: number;
  requestId: string | null;
}

/** Wraps t.call to remember every request made and the request id it was answered with. */
function recording(t: TestApp) {
  const sent: Sent[] = [];
  const call: TestApp["call"] = async (method, path, opts) => {
    const res = await t.call(method, path, opts);
    sent.push({ method, path, status: res.status, requestId: res.headers.get("x-request-id") });
    return res;
  };
  return { sent, call };
}

const parsed = (t: TestApp) => t.logs.map((line) => JSON.parse(line) as LogLine);

/** The log text without the fields that are random by design (request ids, wall-clock time). */
function logTextWithoutRandomFields(t: TestApp): string {
  return parsed(t)
    .map(({ requestId: _id, time: _time, ...rest }) => JSON.stringify(rest))
    .join("\n");
}

describe("structured request logs", () => {
  it("never contain contacts, credentials, tokens, codes or card numbers", async () => {
    const t = await createTestApp();
    const { call, sent } = recording(t);
    const email = "minjun.kim@example.com";
    const phoneLocal = "010-1234-5678";
    const phoneE164 = "+821012345678";
    const password = "correct horse battery staple";
    const staffEmail = "ops.lead@dangol.test";

    // Enrol, issue a card.
    const member = (await (await expectStatus(await call("POST", "/v1/members", { body: { name: "김민준", email, phone: phoneLocal } }), 201)).json()) as { id: string };
    const card = (await (await expectStatus(await call("POST", `/v1/members/${member.id}/cards`), 201)).json()) as { number: string };
    await expectStatus(await call("GET", `/v1/cards/${card.number}`), 200);

    // A duplicate enrolment is refused.
    await expectStatus(await call("POST", "/v1/members", { body: { name: "김민준", email: email.toUpperCase() } }), 409);

    // Staff sign-in, right and wrong.
    await expectStatus(await call("POST", "/v1/staff", { body: { email: staffEmail, name: "Ops", role: "admin", password } }), 201);
    const staffToken = ((await (await expectStatus(await call("POST", "/v1/auth/login", { token: null, body: { email: staffEmail, password } }), 200)).json()) as { token: string }).token;
    await expectStatus(await call("POST", "/v1/auth/login", { token: null, body: { email: staffEmail, password: `${password}!` } }), 401);

    // Member sign-in by email (one wrong code first) and by phone.
    await expectStatus(await call("POST", "/v1/auth/member/start", { token: null, body: { email } }), 202);
    const outbox = (await (await expectStatus(await call("GET", `/v1/outbox?recipient=${encodeURIComponent(email)}`, { token: staffToken }), 200)).json()) as { items: { body: string }[] };
    const code = /\b(\d{6})\b/.exec(outbox.items[0]!.body)![1]!;
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    await expectStatus(await call("POST", "/v1/auth/member/verify", { token: null, body: { email, code: wrong } }), 401);
    const memberToken = ((await (await expectStatus(await call("POST", "/v1/auth/member/verify", { token: null, body: { email, code } }), 200)).json()) as { token: string }).token;
    await expectStatus(await call("POST", "/v1/auth/member/start", { token: null, body: { phone: phoneLocal } }), 202);
    const smsOutbox = (await (await expectStatus(await call("GET", `/v1/outbox?recipient=${encodeURIComponent(phoneLocal)}`), 200)).json()) as { items: { body: string }[] };
    const smsCode = /\b(\d{6})\b/.exec(smsOutbox.items[0]!.body)![1]!;
    await expectStatus(await call("POST", "/v1/auth/member/verify", { token: null, body: { phone: phoneE164, code: smsCode } }), 200);
    await expectStatus(await call("GET", "/v1/me", { token: memberToken }), 200);

    // Mint a card token and present it at a partner with a fresh API key.
    const cardToken = ((await (await expectStatus(await call("GET", "/v1/me/card/token", { token: memberToken }), 200)).json()) as { token: string }).token;
    const partner = (await (await expectStatus(await call("POST", "/v1/partners", { body: { name: "별빛시네마", category: "cinema" } }), 201)).json()) as { id: string };
    const partnerKey = ((await (await expectStatus(await call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS 1" } }), 201)).json()) as { key: string }).key;
    await expectStatus(await call("POST", "/v1/cards/verify", { token: partnerKey, body: { token: cardToken } }), 200);
    await expectStatus(await call("POST", "/v1/cards/verify", { token: partnerKey, body: { cardNumber: card.number } }), 200);

    // Credentials used in the wrong place are refused (and must not be logged either).
    await expectStatus(await call("GET", "/v1/me", { token: cardToken }), 401);
    await expectStatus(await call("GET", "/v1/me", { token: `${partnerKey}0` }), 401);

    // Searches that carry contacts in the query string.
    await expectStatus(await call("GET", `/v1/members?q=${encodeURIComponent(email)}`), 200);
    await expectStatus(await call("GET", `/v1/members?q=${encodeURIComponent(phoneLocal)}`, { token: staffToken }), 200);
    await expectStatus(await call("GET", `/v1/members?q=${card.number.slice(0, 10)}`), 200);

    const secrets = {
      email,
      emailUpper: email.toUpperCase(),
      staffEmail,
      password,
      phoneLocal,
      phoneE164,
      phoneDigits: "01012345678",
      adminToken: ADMIN_TOKEN,
      staffToken,
      memberToken,
      cardToken,
      partnerKey,
      code,
      wrongCode: wrong,
      smsCode,
      cardNumber: card.number,
    };
    const raw = t.logs.join("\n");
    const text = logTextWithoutRandomFields(t);
    for (const [what, secret] of Object.entries(secrets)) {
      // Six-digit codes are checked against the log without the random request ids and times,
      // which could contain the same six digits by chance.
      const haystack = /^\d{6}$/.test(secret) ? text : raw;
      expect(haystack.includes(secret), `${what} appears in the logs`).toBe(false);
      expect(haystack.includes(encodeURIComponent(secret)), `${what} (URL-encoded) appears in the logs`).toBe(false);
    }
    // Parts of tokens, in case a token were cut short.
    for (const token of [staffToken, memberToken, cardToken]) expect(raw).not.toContain(token.split(".")[2]!.slice(0, 24));
    expect(raw).not.toContain(partnerKey.slice(6));

    // One JSON line per request, in order, each naming its request id, method, route, status and duration.
    const lines = parsed(t);
    expect(lines).toHaveLength(sent.length);
    lines.forEach((line, i) => {
      const request = sent[i]!;
      expect(line).toMatchObject({ level: "info", msg: "request", method: request.method, status: request.status, requestId: request.requestId });
      expect(line.requestId).toEqual(expect.any(String));
      expect(line.durationMs).toEqual(expect.any(Number));
      expect(line.durationMs).toBeGreaterThanOrEqual(0);
      expect(line.route).toEqual(expect.stringMatching(/^\//));
      expect(line.route).not.toContain("?");
    });
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(lines.length);

    // Routes are patterns, not paths.
    const routes = lines.map((l) => `${l.method} ${l.route}`);
    expect(routes).toContain("GET /v1/cards/:cardNumber");
    expect(routes).toContain("POST /v1/members/:memberId/cards");
    expect(routes).toContain("POST /v1/partners/:partnerId/keys");
    expect(routes).toContain("GET /v1/members");
    expect(routes).toContain("GET /v1/outbox");
    expect(routes).toContain("POST /v1/cards/verify");
    expect(routes).toContain("GET /v1/me/card/token");
    expect(raw).not.toContain(member.id);
    expect(raw).not.toContain(partner.id);
  });

  it("logs a request refused before reaching its handler with its route pattern", async () => {
    const t = await createTestApp();
    const res = await t.call("GET", "/v1/cards/9410123456789015", { token: "not-a-credential" });
    await expectStatus(res, 401);
    const [line] = parsed(t);
    expect(line).toMatchObject({ msg: "request", method: "GET", route: "/v1/cards/:cardNumber", status: 401, requestId: res.headers.get("x-request-id") });
    expect(t.logs.join("\n")).not.toContain("9410123456789015");
    expect(t.logs.join("\n")).not.toContain("not-a-credential");
  });

  it("logs nothing but the pattern for an unknown route", async () => {
    const t = await createTestApp();
    await expectStatus(await t.call("GET", "/v1/cards/9410123456789015/history?email=minjun@example.com"), 404);
    expect(t.logs).toHaveLength(1);
    expect(t.logs[0]).not.toContain("9410123456789015");
    expect(t.logs[0]).not.toContain("minjun");
  });
});

describe("request ids", () => {
  it.each([
    ["a 409", async (t: TestApp) => {
      await expectStatus(await t.call("POST", "/v1/members", { body: { name: "김민준", email: "minjun@example.com" } }), 201);
      return t.call("POST", "/v1/members", { body: { name: "김민준", email: "minjun@example.com" } });
    }, 409],
    ["a 401", (t: TestApp) => t.call("GET", "/v1/members", { token: "not-a-credential" }), 401],
    ["a 400", (t: TestApp) => t.call("GET", "/v1/members?limit=1000"), 400],
    ["a 404", (t: TestApp) => t.call("GET", "/v1/cards/9410000000000000"), 404],
    ["an unknown route", (t: TestApp) => t.call("GET", "/v1/nowhere"), 404],
  ] as const)("match between the problem body, the x-request-id header and the log line for %s", async (_, act, status) => {
    const t = await createTestApp();
    const res = await act(t);
    await expectStatus(res, status);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const header = res.headers.get("x-request-id");
    expect(header).toMatch(/^[\w-]{8,}$/);
    const body = (await res.json()) as { requestId: string; status: number };
    expect(body.status).toBe(status);
    expect(body.requestId).toBe(header);
    expect(parsed(t).at(-1)).toMatchObject({ requestId: header, status });
  });

  it("keeps a caller's well-formed X-Request-Id", async () => {
    const t = await createTestApp();
    const res = await t.call("GET", "/v1/cards/9410000000000000", { headers: { "x-request-id": "pos-till-7-000042" } });
    await expectStatus(res, 404);
    expect(res.headers.get("x-request-id")).toBe("pos-till-7-000042");
    expect(((await res.json()) as { requestId: string }).requestId).toBe("pos-till-7-000042");
    expect(parsed(t)[0]?.requestId).toBe("pos-till-7-000042");
  });

  it("replaces a caller's X-Request-Id that could smuggle text into the logs", async () => {
    const t = await createTestApp();
    const res = await t.call("GET", "/v1/members", { headers: { "x-request-id": "minjun@example.com" } });
    await expectStatus(res, 200);
    const id = res.headers.get("x-request-id");
    expect(id).not.toBe("minjun@example.com");
    expect(parsed(t)[0]?.requestId).toBe(id);
    expect(t.logs.join("\n")).not.toContain("minjun@example.com");
  });

  it("gives every request its own id", async () => {
    const t = await createTestApp();
    const a = await t.call("GET", "/health", { token: null });
    const b = await t.call("GET", "/health", { token: null });
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });
});
