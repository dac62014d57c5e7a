/**
 * The one module that touches jose. Every token dangol signs is a compact JWS with EdDSA over
 * Ed25519, a `kid` in the header and a `typ` naming what it is for; verification pins all three.
 */
import * as jose from "jose";
import { toBase64Url } from "./crypto.ts";

export const ALG = "EdDSA";

export interface KeyPairJwk {
  kid: string;
  publicJwk: jose.JWK;
  privateJwk: jose.JWK;
}

export type VerifyFailure =
  | "malformed"
  | "unsigned"
  | "alg_not_allowed"
  | "wrong_type"
  | "unknown_kid"
  | "bad_signature"
  | "expired"
  | "invalid_claims";

export class TokenRejected extends Error {
  constructor(readonly reason: VerifyFailure) {
    super(`token rejected: ${reason}`);
  }
}

/** Short kids keep QR tokens small; uniqueness is checked against the stored keys. */
export function newKid(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(3)));
}

/** The `typ` a token claims in its header, unverified (to choose how to verify it). */
export function claimedType(token: string): unknown {
  try {
    return jose.decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
}

export async function generateKeyPair(kid: string): Promise<KeyPairJwk> {
  const { publicKey, privateKey } = await jose.generateKeyPair(ALG, {
    crv: "Ed25519",
    extractable: true,
  });
  return {
    kid,
    publicJwk: publicJwkOf(await jose.exportJWK(publicKey), kid),
    privateJwk: { ...(await jose.exportJWK(privateKey)), kid, alg: ALG },
  };
}

export function publicJwkOf(jwk: jose.JWK, kid: string): jose.JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: ALG, use: "sig" };
}

export async function importKey(jwk: jose.JWK): Promise<CryptoKey> {
  return (await jose.importJWK(jwk, ALG)) as CryptoKey;
}

export async function thumbprint(jwk: jose.JWK): Promise<string> {
  return jose.calculateJwkThumbprint(jwk, "sha256");
}

export interface SignInput {
  kid: string;
  key: CryptoKey;
  typ: string;
  claims: jose.JWTPayload;
  issuedAtS: number;
  expiresAtS: number;
}

export async function signToken(input: SignInput): Promise<string> {
  return new jose.SignJWT(input.claims)
    .setProtectedHeader({ alg: ALG, kid: input.kid, typ: input.typ })
    .setIssuedAt(input.issuedAtS)
    .setExpirationTime(input.expiresAtS)
    .sign(input.key);
}

export interface VerifyInput {
  token: string;
  typ: string;
  keyFor: (kid: string) => Promise<CryptoKey | null>;
  nowMs: number;
  /** Longest lifetime (exp − iat) accepted, in seconds. */
  maxLifetimeS: number;
}

/**
 * Verifies a token and says precisely why it is refused. Header checks come first so that
 * `alg: none` and HS256-with-the-public-key-as-secret never reach a key lookup.
 */
export async function verifyToken(input: VerifyInput): Promise<jose.JWTPayload> {
  let header: jose.ProtectedHeaderParameters;
  try {
    if (input.token.split(".").length !== 3) throw new Error("not a compact JWS");
    header = jose.decodeProtectedHeader(input.token);
  } catch {
    throw new TokenRejected("malformed");
  }
  if (typeof header.alg !== "string" || header.alg.toLowerCase() === "none") {
    throw new TokenRejected("unsigned");
  }
  if (header.alg !== ALG) throw new TokenRejected("alg_not_allowed");
  if (header.typ !== input.typ) throw new TokenRejected("wrong_type");
  const key = typeof header.kid === "string" ? await input.keyFor(header.kid) : null;
  if (!key) throw new TokenRejected("unknown_kid");
  try {
    const { payload } = await jose.jwtVerify(input.token, key, {
      algorithms: [ALG],
      typ: input.typ,
      currentDate: new Date(input.nowMs),
      requiredClaims: ["iat", "exp"],
    });
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > input.maxLifetimeS) {
      throw new TokenRejected("invalid_claims");
    }
    return payload;
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    if (error instanceof jose.errors.JWTExpired) throw new TokenRejected("expired");
    if (error instanceof jose.errors.JWSSignatureVerificationFailed) {
      throw new TokenRejected("bad_signature");
    }
    if (error instanceof jose.errors.JWTClaimValidationFailed) {
      throw new TokenRejected("invalid_claims");
    }
    throw new TokenRejected("malformed");
  }
}
