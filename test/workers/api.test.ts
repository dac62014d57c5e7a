/**
 * The same app, served by the Workers entry on D1: system routes, enrolment, the one-time code
 * sign-in, card tokens and QR images, partner verification, and the error paths that depend on
 * SQL guards (UNIQUE contacts) and card state.
 */
import { describe, expect, it } from "vitest";
import { call, expectStatus, givenCard, givenMember, givenPartner, jsonOf, memberToken, uniqueEmail, type Problem } from "./client.ts";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function problemOf(res: Response, status: number): Promise<Problem> {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return jsonOf<Problem>(res, status);
}

describe("system routes on D1", () => {
  it("GET /health answers ok from the d1 driver", async () => {
    const body = await jsonOf<{ status: string; driver: string; time: string }>(await call("GET", "/health", { token: null }), 200);
    expect(body).toMatchObject({ status: "ok", driver: "d1" });
    expect(Number.isNaN(Date.parse(body.time))).toBe(false);
  });

  it("GET /openapi.json serves the 3.1 document", async () => {
    const doc = await jsonOf<{ openapi: string; paths: Record<string, unknown> }>(await call("GET", "/openapi.json", { token: null }), 200);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/v1/members", "/v1/cards/verify", "/v1/me/card/qr.png"]));
  });

  it("GET /.well-known/jwks.json lists at least one Ed25519 key", async () => {
    const res = await call("GET", "/.well-known/jwks.json", { token: null });
    const jwks = await jsonOf<{ keys: { kty?: string; crv?: string; x?: string; kid?: string; alg?: string }[] }>(res, 200);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    const ed = jwks.keys.filter((k) => k.kty === "OKP" && k.crv === "Ed25519");
    expect(ed.length).toBeGreaterThanOrEqual(1);
    expect(ed[0]).toMatchObject({ alg: "EdDSA", kid: expect.any(String), x: expect.any(String) });
    // Public keys only.
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  it("unknown routes are problem+json 404s", async () => {
    const problem = await problemOf(await call("GET", "/v1/nowhere"), 404);
    expect(problem.code).toBe("not_found");
  });
});

describe("member journey on D1", () => {
  it("enrol → card → one-time code sign-in → card token → partner verify", async () => {
    const email = uniqueEmail("journey");
    const member = await givenMember({ email, name: "김민준" });
    expect(member).toMatchObject({ email, tier: "basic" });
    const card = await givenCard(member.id);
    expect(card).toMatchObject({ memberId: member.id, status: "active" });
    expect(card.number).toMatch(/^\d{16}$/);

    const token = await memberToken(email);
    const me = await jsonOf<{ id: string }>(await call("GET", "/v1/me", { token }), 200);
    expect(me.id).toBe(member.id);

    const tokenRes = await call("GET", "/v1/me/card/token", { token });
    expect(tokenRes.headers.get("cache-control")).toBe("no-store");
    const cardToken = await jsonOf<{ token: string; expiresAt: string; cardNumber: string }>(tokenRes, 200);
    expect(cardToken.cardNumber).toBe(card.number);
    expect(cardToken.token.split(".")).toHaveLength(3);

    const partner = await givenPartner();
    const summary = await jsonOf<Record<string, unknown>>(
      await call("POST", "/v1/cards/verify", { token: partner.key, body: { token: cardToken.token } }),
      200,
    );
    expect(summary).toEqual({
      memberId: member.id,
      cardNumber: card.number,
      displayName: expect.any(String),
      tier: "basic",
      balance: { available: 0 },
      offers: [],
    });
    // Partners see a masked name, never the full one.
    expect(summary.displayName).not.toBe("김민준");

    // A typed card number verifies too.
    const typed = await jsonOf<{ memberId: string }>(
      await call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: card.number } }),
      200,
    );
    expect(typed.memberId).toBe(member.id);
  });

  it("draws the card token as a PNG (web-standard encoder) and as an SVG", async () => {
    const email = uniqueEmail("qr");
    const member = await givenMember({ email });
    await givenCard(member.id);
    const token = await memberToken(email);

    const png = await expectStatus(await call("GET", "/v1/me/card/qr.png", { token }), 200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.headers.get("cache-control")).toBe("no-store");
    expect(Date.parse(png.headers.get("x-token-expires-at") ?? "")).toBeGreaterThan(Date.now());
    const bytes = new Uint8Array(await png.arrayBuffer());
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_MAGIC);
    // IHDR: square, 1-bit grayscale; IEND closes the file, so CompressionStream produced the IDAT.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(12, 16))).toBe("IHDR");
    const width = view.getUint32(16);
    expect(width).toBeGreaterThan(0);
    expect(view.getUint32(20)).toBe(width);
    expect(bytes[24]).toBe(1);
    expect(new TextDecoder().decode(bytes.subarray(37, 41))).toBe("IDAT");
    expect(new TextDecoder().decode(bytes.subarray(bytes.length - 8, bytes.length - 4))).toBe("IEND");
    // The deflated image data inflates back to one filter byte plus ceil(width / 8) bytes a row.
    const idatLength = view.getUint32(33);
    const idat = bytes.slice(41, 41 + idatLength);
    const raw = new Uint8Array(await new Response(new Blob([idat]).stream().pipeThrough(new DecompressionStream("deflate"))).arrayBuffer());
    expect(raw.length).toBe((Math.ceil(width / 8) + 1) * width);

    const svg = await expectStatus(await call("GET", "/v1/me/card/qr.svg", { token }), 200);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    const text = await svg.text();
    expect(text).toMatch(/^<svg[\s>]/);
    expect(text).toContain("</svg>");
  });
});

describe("error paths on D1", () => {
  it("a duplicate email is a 409 member_exists (case-insensitive)", async () => {
    const email = uniqueEmail("dup");
    const first = await givenMember({ email });
    const problem = await problemOf(await call("POST", "/v1/members", { body: { name: "Second", email } }), 409);
    expect(problem.code).toBe("member_exists");
    const again = await problemOf(await call("POST", "/v1/members", { body: { name: "Third", email: email.toUpperCase() } }), 409);
    expect(again).toMatchObject({ code: "member_exists", memberId: first.id });
  });

  it("a blocked card fails verification with 409 card_blocked, by token and by number", async () => {
    const email = uniqueEmail("blocked");
    const member = await givenMember({ email });
    const card = await givenCard(member.id);
    const token = await memberToken(email);
    const { token: cardToken } = await jsonOf<{ token: string }>(await call("GET", "/v1/me/card/token", { token }), 200);
    const partner = await givenPartner("블록 테스트 카페");

    const blocked = await jsonOf<{ status: string }>(await call("POST", `/v1/cards/${card.number}/block`), 200);
    expect(blocked.status).toBe("blocked");

    const byToken = await problemOf(await call("POST", "/v1/cards/verify", { token: partner.key, body: { token: cardToken } }), 409);
    expect(byToken.code).toBe("card_blocked");
    const byNumber = await problemOf(await call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: card.number } }), 409);
    expect(byNumber.code).toBe("card_blocked");
    // And the member can no longer mint a token for it.
    const mint = await problemOf(await call("GET", "/v1/me/card/token", { token }), 404);
    expect(mint.code).toBe("card_not_found");
  });

  it("a second active card is a 409 active_card_exists", async () => {
    const member = await givenMember();
    await givenCard(member.id);
    const problem = await problemOf(await call("POST", `/v1/members/${member.id}/cards`), 409);
    expect(problem.code).toBe("active_card_exists");
  });

  it("a wrong one-time code is a 401 and a partner key cannot read members", async () => {
    const email = uniqueEmail("otp");
    await givenMember({ email });
    await expectStatus(await call("POST", "/v1/auth/member/start", { token: null, body: { email } }), 202);
    const wrong = await problemOf(await call("POST", "/v1/auth/member/verify", { token: null, body: { email, code: "000000" } }), 401);
    expect(["otp_invalid", "invalid_credentials"]).toContain(wrong.code);
    const partner = await givenPartner("권한 테스트");
    const forbidden = await call("GET", "/v1/members", { token: partner.key });
    expect(forbidden.status).toBe(403);
  });
});
