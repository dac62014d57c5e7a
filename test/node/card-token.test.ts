/**
 * The QR card: a token a partner can trust. The PNG is decoded by a real QR decoder, the token
 * verified against the published JWKS, and every forgery in the corpus refused with its own code.
 */
import { eq } from "drizzle-orm";
import * as jose from "jose";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { beforeEach, describe, expect, it } from "vitest";
import { signingKeys } from "../../db/schema.ts";
import { qrVersion } from "../../src/lib/qr.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, memberToken } from "../helpers/factories.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

interface Setup {
  t: TestApp;
  member: { id: string };
  card: { number: string };
  memberJwt: string;
  partnerKey: string;
}

async function setup(): Promise<Setup> {
  const t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const memberJwt = await memberToken(t, member);
  const partner = await givenPartner(t);
  return { t, member, card, memberJwt, partnerKey: partner.key };
}

async function mint(s: Setup): Promise<string> {
  const res = await expectStatus(await s.t.call("GET", "/v1/me/card/token", { token: s.memberJwt }), 200);
  return ((await res.json()) as { token: string }).token;
}

function verify(s: Setup, body: unknown) {
  return s.t.call("POST", "/v1/cards/verify", { token: s.partnerKey, body });
}

async function activePrivateKey(s: Setup) {
  const [row] = await s.t.deps.database.db.select().from(signingKeys).where(eq(signingKeys.status, "active"));
  return { kid: row!.kid, key: (await jose.importJWK(JSON.parse(row!.privateJwk!) as jose.JWK, "EdDSA")) as CryptoKey, publicJwk: JSON.parse(row!.publicJwk) as jose.JWK };
}

describe("minting a card token", () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup();
  });

  it("is an EdDSA JWS with kid, our typ, a unique jti and at most 120 s of life, small enough for QR 10-M", async () => {
    const tokens = await Promise.all(Array.from({ length: 40 }, () => mint(s)));
    for (const token of tokens) {
      expect(token.length).toBeLessThanOrEqual(213);
      expect(qrVersion(token)).toBeLessThanOrEqual(10);
      const header = jose.decodeProtectedHeader(token);
      expect(header).toEqual({ alg: "EdDSA", kid: expect.any(String), typ: "dgc" });
      const claims = jose.decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBeGreaterThan(0);
      expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(120);
      expect(claims.iat).toBe(Math.floor(s.t.clock.now / 1000));
      // The QR reveals no card number or member id: only a random reference.
      expect(Object.keys(claims).sort()).toEqual(["exp", "iat", "jti"]);
    }
    expect(new Set(tokens.map((t) => jose.decodeJwt(t).jti)).size).toBe(tokens.length);
  });

  it("needs an active card", async () => {
    await expectStatus(await s.t.call("POST", `/v1/cards/${s.card.number}/block`, { body: { reason: "lost" } }), 200);
    const res = await s.t.call("GET", "/v1/me/card/token", { token: s.memberJwt });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("card_not_found");
  });

  it("is never cached", async () => {
    const res = await s.t.call("GET", "/v1/me/card/token", { token: s.memberJwt });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("the QR images", () => {
  it("decode with a real QR decoder to a token that verifies against the published JWKS and at the till", async () => {
    const s = await setup();
    const res = await expectStatus(await s.t.call("GET", "/v1/me/card/qr.png", { token: s.memberJwt }), 200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded).not.toBeNull();
    const token = decoded!.data;
    expect(decoded!.version).toBeLessThanOrEqual(10);

    const jwks = (await (await s.t.call("GET", "/.well-known/jwks.json", { token: null })).json()) as jose.JSONWebKeySet;
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
      algorithms: ["EdDSA"],
      typ: "dgc",
      currentDate: new Date(s.t.clock.now),
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
    expect(payload.jti).toEqual(expect.any(String));

    const pos = await expectStatus(await verify(s, { token }), 200);
    expect(await pos.json()).toMatchObject({ memberId: s.member.id, cardNumber: s.card.number });
  });

  it("draws the same kind of token as an SVG", async () => {
    const s = await setup();
    const res = await expectStatus(await s.t.call("GET", "/v1/me/card/qr.svg", { token: s.memberJwt }), 200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(await res.text()).toMatch(/^<svg[^>]*viewBox/);
  });
});

describe("verifying a presented card", () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup();
  });

  const forgeries: Array<[string, (s: Setup) => Promise<string>, number, string]> = [
    ["not a JWS at all", async () => "hello.world", 422, "card_token_malformed"],
    ["a header that is not JSON", async (s) => `bm90IGpzb24.${(await mint(s)).split(".").slice(1).join(".")}`, 422, "card_token_malformed"],
    [
      "alg: none",
      async (s) => {
        const [, payload] = (await mint(s)).split(".");
        return `${b64({ alg: "none", typ: "dgc" })}.${payload}.`;
      },
      422,
      "card_token_unsigned",
    ],
    [
      "HS256 keyed with the published public key",
      async (s) => {
        const { kid, publicJwk } = await activePrivateKey(s);
        const claims = jose.decodeJwt(await mint(s));
        // The classic algorithm-confusion forgery: HMAC with the public key's bytes as the secret.
        for (const secret of [Buffer.from(publicJwk.x!, "base64url"), Buffer.from(JSON.stringify(publicJwk))]) {
          return new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", kid, typ: "dgc" }).sign(new Uint8Array(secret));
        }
        throw new Error("unreachable");
      },
      422,
      "card_token_alg_not_allowed",
    ],
    [
      "an unknown kid",
      async (s) => {
        const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" });
        const claims = jose.decodeJwt(await mint(s));
        return new jose.SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "zzzz", typ: "dgc" }).sign(privateKey);
      },
      422,
      "card_token_unknown_kid",
    ],
    [
      "our kid but another key's signature",
      async (s) => {
        const { kid } = await activePrivateKey(s);
        const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" });
        const claims = jose.decodeJwt(await mint(s));
        return new jose.SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "dgc" }).sign(privateKey);
      },
      422,
      "card_token_bad_signature",
    ],
    [
      "a tampered signature",
      async (s) => {
        const [h, p, sig] = (await mint(s)).split(".");
        const flipped = sig!.slice(0, 10) + (sig![10] === "A" ? "B" : "A") + sig!.slice(11);
        return `${h}.${p}.${flipped}`;
      },
      422,
      "card_token_bad_signature",
    ],
    [
      "a tampered payload",
      async (s) => {
        const [h, , sig] = (await mint(s)).split(".");
        const claims = jose.decodeJwt(await mint(s));
        return `${h}.${b64({ ...claims, exp: claims.exp! + 60 })}.${sig}`;
      },
      422,
      "card_token_bad_signature",
    ],
    [
      "the wrong typ (a member token)",
      async (s) => s.memberJwt,
      422,
      "card_token_wrong_type",
    ],
    [
      "a plain JWT typ signed with our key",
      async (s) => {
        const { kid, key } = await activePrivateKey(s);
        const claims = jose.decodeJwt(await mint(s));
        return new jose.SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" }).sign(key);
      },
      422,
      "card_token_wrong_type",
    ],
    [
      "a lifetime over 120 seconds",
      async (s) => {
        const { kid, key } = await activePrivateKey(s);
        const claims = jose.decodeJwt(await mint(s));
        return new jose.SignJWT({ ...claims, exp: claims.iat! + 3600 }).setProtectedHeader({ alg: "EdDSA", kid, typ: "dgc" }).sign(key);
      },
      422,
      "card_token_invalid_claims",
    ],
    [
      "a well-signed token this service never issued",
      async (s) => {
        const { kid, key } = await activePrivateKey(s);
        const iat = Math.floor(s.t.clock.now / 1000);
        return new jose.SignJWT({ jti: "nEvErMnT" }).setProtectedHeader({ alg: "EdDSA", kid, typ: "dgc" }).setIssuedAt(iat).setExpirationTime(iat + 60).sign(key);
      },
      422,
      "card_token_unknown",
    ],
  ];

  it.each(forgeries)("refuses %s", async (_name, forge, status, code) => {
    const token = await forge(s);
    const res = await verify(s, { token });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe(code);
  });

  it("refuses an expired token, and accepts it until then", async () => {
    const token = await mint(s);
    s.t.clock.advance(89_000);
    await expectStatus(await verify(s, { token }), 200);
    s.t.clock.advance(2_000);
    const res = await verify(s, { token });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("card_token_expired");
  });

  it.each([
    ["blocked", "card_blocked"],
    ["lost", "card_blocked"],
  ])("refuses tokens and typed numbers of a %s card", async (reason, code) => {
    const token = await mint(s);
    await expectStatus(await s.t.call("POST", `/v1/cards/${s.card.number}/block`, { body: { reason } }), 200);
    for (const body of [{ token }, { cardNumber: s.card.number }]) {
      const res = await verify(s, body);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
  });

  it("refuses a replaced card's tokens and number, and accepts the new card", async () => {
    const token = await mint(s);
    const replacement = (await (await expectStatus(await s.t.call("POST", `/v1/cards/${s.card.number}/replace`), 201)).json()) as { number: string };
    for (const body of [{ token }, { cardNumber: s.card.number }]) {
      const res = await verify(s, body);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe("card_replaced");
    }
    const fresh = await mint(s);
    await expectStatus(await verify(s, { token: fresh }), 200);
    await expectStatus(await verify(s, { cardNumber: replacement.number }), 200);
  });

  it("accepts a card number typed by hand, with spaces or dashes", async () => {
    const n = s.card.number;
    const typed = `${n.slice(0, 4)} ${n.slice(4, 8)}-${n.slice(8, 12)} ${n.slice(12)}`;
    const res = await expectStatus(await verify(s, { cardNumber: typed }), 200);
    expect(await res.json()).toEqual({ memberId: s.member.id, cardNumber: n, displayName: "김*준", tier: "basic", balance: { available: 0 }, offers: [] });
  });

  it("catches a mistyped digit by the Luhn check, and an unknown number", async () => {
    const n = s.card.number;
    const typo = n.slice(0, 5) + String((Number(n[5]) + 1) % 10) + n.slice(6);
    const res = await verify(s, { cardNumber: typo });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "cardNumber" }] });
    const unknown = await verify(s, { cardNumber: "4539148803436467" });
    expect(unknown.status).toBe(404);
  });

  it("shows the till no contact details", async () => {
    const token = await mint(s);
    const body = JSON.stringify(await (await verify(s, { token })).json());
    const member = (await (await s.t.call("GET", `/v1/members/${s.member.id}`)).json()) as { email: string; phone: string; name: string };
    expect(body).not.toContain(member.email);
    expect(body).not.toContain(member.phone);
    expect(body).not.toContain(member.name);
  });

  it("keeps verifying tokens signed before a key rotation until the old key is removed", async () => {
    const token = await mint(s);
    const { kid } = (await (await expectStatus(await s.t.call("POST", "/v1/admin/signing-keys/rotate"), 201)).json()) as { kid: string };
    expect(jose.decodeProtectedHeader(await mint(s)).kid).toBe(kid);
    await expectStatus(await verify(s, { token }), 200);
    const old = jose.decodeProtectedHeader(token).kid!;
    await expectStatus(await s.t.call("DELETE", `/v1/admin/signing-keys/${old}`), 204);
    const res = await verify(s, { token });
    expect(((await res.json()) as { code: string }).code).toBe("card_token_unknown_kid");
  });
});
