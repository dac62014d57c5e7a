/**
 * Credentials → principals, and the two sign-in flows: staff by password, members by a one-time
 * code sent through the outbox. Tokens are EdDSA JWS with their own `typ` each, so a card token
 * or a member token can never pass as a staff session.
 */
import { and, count, desc, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { members, otpCodes, settings, staffUsers } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError, invalidField } from "../../errors.ts";
import { constantTimeEqual, randomSecret, sha256Hex, UNMATCHABLE_HASH, verifyPassword } from "../../lib/crypto.ts";
import { cryptoRandomBytes, newId } from "../../lib/ids.ts";
import { claimedType, signToken, TokenRejected, verifyToken } from "../../lib/jwt.ts";
import { toE164 } from "../../lib/phone.ts";
import { deliverWithDevSender, queueMessage } from "../outbox/outbox.ts";
import { findActiveKeyByHash, PARTNER_KEY_PREFIX } from "../partners/partners.ts";
import { BOOTSTRAP_ADMIN_ID, type Principal } from "../../domain/principal.ts";
import { isoTime } from "../../lib/time.ts";

export const STAFF_TOKEN_TYP = "dangol-staff+jwt";
export const MEMBER_TOKEN_TYP = "dangol-member+jwt";
export const ADMIN_TOKEN_PREFIX = "dg_admin_";
const ADMIN_TOKEN_HASH_KEY = "admin_token_sha256";

const OTP_TTL_MS = 10 * 60_000;
const OTP_MAX_ATTEMPTS = 5;
const OTP_MAX_PER_WINDOW = 5;
const OTP_WINDOW_MS = 15 * 60_000;

const unauthorized = (detail = "A valid bearer credential is required.") => new AppError("unauthorized", detail);

/**
 * Makes sure an admin credential exists. With ADMIN_TOKEN configured nothing is stored; otherwise
 * the first call on a new database generates one, keeps only its hash and returns it once.
 */
export async function ensureAdminToken(deps: Deps): Promise<string | null> {
  if (deps.config.ADMIN_TOKEN) return null;
  const { db } = deps.database;
  const [stored] = await db.select().from(settings).where(eq(settings.key, ADMIN_TOKEN_HASH_KEY));
  if (stored) return null;
  const token = randomSecret(ADMIN_TOKEN_PREFIX, 32);
  await deps.database.atomic([
    db.insert(settings).values({ key: ADMIN_TOKEN_HASH_KEY, value: sha256Hex(token), updatedAt: deps.clock() }),
  ]);
  return token;
}

async function isAdminToken(deps: Deps, token: string): Promise<boolean> {
  if (deps.config.ADMIN_TOKEN && constantTimeEqual(token, deps.config.ADMIN_TOKEN)) return true;
  const [stored] = await deps.database.db.select().from(settings).where(eq(settings.key, ADMIN_TOKEN_HASH_KEY));
  return stored ? constantTimeEqual(sha256Hex(token), stored.value) : false;
}

/** Resolves an Authorization header to a principal; a present but bad credential is a 401, a suspended partner's key a 403. */
export async function authenticate(deps: Deps, header: string | undefined): Promise<Principal> {
  if (!header) return { role: "anonymous" };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized("Use 'Authorization: Bearer <token>'.");
  const token = match[1]!;
  if (token.startsWith(PARTNER_KEY_PREFIX)) {
    const found = await findActiveKeyByHash(deps, sha256Hex(token));
    if (!found) throw unauthorized("Unknown or revoked API key.");
    // A genuine key of a partner that may not act now: refused as forbidden, not unknown.
    if (found.partnerStatus !== "active") throw new AppError("forbidden", "This partner is suspended; its API keys are refused until it is reactivated.");
    const { key } = found;
    return { role: "partner", partnerId: key.partnerId, keyId: key.id, scopes: key.scopes };
  }
  if (token.split(".").length === 3) return principalOfJwt(deps, token);
  if (await isAdminToken(deps, token)) return { role: "admin", staffId: BOOTSTRAP_ADMIN_ID };
  throw unauthorized("Unknown credential.");
}

async function principalOfJwt(deps: Deps, token: string): Promise<Principal> {
  const verify = (typ: string, maxLifetimeS: number) =>
    verifyToken({ token, typ, keyFor: (kid) => deps.keys.verificationKey(kid), nowMs: deps.clock(), maxLifetimeS });
  const typ = claimedType(token);
  try {
    if (typ === STAFF_TOKEN_TYP) {
      const claims = await verify(STAFF_TOKEN_TYP, deps.config.SESSION_TTL_SECONDS);
      const [staff] = await deps.database.db.select().from(staffUsers).where(eq(staffUsers.id, String(claims.sub)));
      if (!staff || staff.status !== "active") throw unauthorized("This staff account is disabled.");
      return { role: staff.role, staffId: staff.id };
    }
    if (typ === MEMBER_TOKEN_TYP) {
      const claims = await verify(MEMBER_TOKEN_TYP, deps.config.MEMBER_TOKEN_TTL_SECONDS);
      const [member] = await deps.database.db.select({ id: members.id, status: members.status }).from(members).where(eq(members.id, String(claims.sub)));
      if (!member || member.status !== "active") throw unauthorized("This membership is closed.");
      return { role: "member", memberId: member.id };
    }
  } catch (error) {
    if (error instanceof TokenRejected) throw unauthorized(`The token was rejected (${error.reason}).`);
    throw error;
  }
  throw unauthorized("This token type is not a credential.");
}

async function issueToken(deps: Deps, typ: string, subject: string, ttlS: number) {
  const { kid, key } = await deps.keys.signingKey();
  const issuedAtS = Math.floor(deps.clock() / 1000);
  const expiresAtS = issuedAtS + ttlS;
  const token = await signToken({ kid, key, typ, claims: { sub: subject }, issuedAtS, expiresAtS });
  return { token, expiresAt: isoTime(expiresAtS * 1000) };
}

export async function staffLogin(deps: Deps, input: { email: string; password: string }) {
  const [staff] = await deps.database.db.select().from(staffUsers).where(eq(staffUsers.email, input.email.trim().toLowerCase()));
  const ok = await verifyPassword(input.password, staff?.passwordHash ?? UNMATCHABLE_HASH);
  if (!staff || !ok || staff.status !== "active") {
    throw new AppError("invalid_credentials", "Email or password is wrong.");
  }
  const session = await issueToken(deps, STAFF_TOKEN_TYP, staff.id, deps.config.SESSION_TTL_SECONDS);
  return { ...session, role: staff.role, staffId: staff.id };
}

type Contact = { email?: string | undefined; phone?: string | undefined };

export type SignInRecipient = { channel: "email" | "sms"; recipient: string };

/** The contact a code goes to, normalised; an invalid phone number is a validation failure. */
export function signInRecipient(contact: Contact): SignInRecipient {
  if (contact.email) return { channel: "email", recipient: contact.email.trim().toLowerCase() };
  const phone = toE164(contact.phone ?? "");
  if (!phone) {
    throw invalidField("phone", "Not a valid phone number", "Not a valid phone number.");
  }
  return { channel: "sms", recipient: phone };
}

function sixDigitCode(): string {
  const [a, b, c] = cryptoRandomBytes(3);
  return String(((a! << 16) | (b! << 8) | c!) % 1_000_000).padStart(6, "0");
}

/**
 * Sends a sign-in code if the contact belongs to an active member, within the rate limit. The
 * route runs it after answering, so neither its answer nor its timing tells who is enrolled.
 * A new code supersedes the contact's earlier ones: only the latest code works.
 */
export async function startMemberSignIn(deps: Deps, { channel, recipient }: SignInRecipient): Promise<void> {
  const { db } = deps.database;
  const column = channel === "email" ? members.email : members.phone;
  const [member] = await db.select({ id: members.id, status: members.status }).from(members).where(eq(column, recipient));
  if (!member || member.status !== "active") return;
  const now = deps.clock();
  const [recent] = await db
    .select({ n: count() })
    .from(otpCodes)
    .where(and(eq(otpCodes.recipient, recipient), gt(otpCodes.createdAt, now - OTP_WINDOW_MS)));
  if ((recent?.n ?? 0) >= OTP_MAX_PER_WINDOW) {
    deps.logger.warn("sign-in codes rate limited", { memberId: member.id });
    return;
  }
  const code = sixDigitCode();
  const id = newId("otp", now);
  const message = queueMessage(deps, {
    memberId: member.id,
    channel,
    recipient,
    subject: "Your dangol sign-in code",
    body: `Your dangol sign-in code is ${code}. It expires in 10 minutes.`,
    kind: "sign_in_code",
  });
  await deps.database.atomic([
    db.update(otpCodes).set({ consumedAt: now }).where(and(eq(otpCodes.recipient, recipient), isNull(otpCodes.consumedAt))),
    db.insert(otpCodes).values({ id, recipient, memberId: member.id, codeHash: sha256Hex(`${id}:${code}`), createdAt: now, expiresAt: now + OTP_TTL_MS }),
    message.statement,
  ]);
  await deliverWithDevSender(deps, message.id);
}

export async function verifyMemberSignIn(deps: Deps, input: Contact & { code: string }) {
  const { recipient } = signInRecipient(input);
  const now = deps.clock();
  const { db } = deps.database;
  const [otp] = await db
    .select()
    .from(otpCodes)
    .where(and(eq(otpCodes.recipient, recipient), isNull(otpCodes.consumedAt), gt(otpCodes.expiresAt, now)))
    .orderBy(desc(otpCodes.createdAt))
    .limit(1);
  const invalid = new AppError("otp_invalid", "The code is wrong, expired or used up; request a new one.");
  if (!otp) throw invalid;
  // Every guess takes one of the code's attempts in SQL before it is compared, so guesses sent
  // together cannot share a count read earlier: at most OTP_MAX_ATTEMPTS are ever compared.
  const [counted] = await deps.database.atomic([
    db
      .update(otpCodes)
      .set({ attempts: sql`${otpCodes.attempts} + 1` })
      .where(and(eq(otpCodes.id, otp.id), isNull(otpCodes.consumedAt), lt(otpCodes.attempts, OTP_MAX_ATTEMPTS))),
  ]);
  if (counted !== 1) throw invalid;
  if (!constantTimeEqual(sha256Hex(`${otp.id}:${input.code}`), otp.codeHash)) throw invalid;
  // Conditional on the code still being unused: of two simultaneous verifies, one wins.
  const [consumed] = await deps.database.atomic([
    db.update(otpCodes).set({ consumedAt: now }).where(and(eq(otpCodes.id, otp.id), isNull(otpCodes.consumedAt))),
  ]);
  if (consumed !== 1) throw invalid;
  const session = await issueToken(deps, MEMBER_TOKEN_TYP, otp.memberId, deps.config.MEMBER_TOKEN_TTL_SECONDS);
  return { ...session, memberId: otp.memberId };
}
