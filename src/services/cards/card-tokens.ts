/**
 * The QR card. A member's app mints a short-lived EdDSA token that names only a random jti; the
 * server maps the jti to the card. A full JWT carrying the card number cannot fit QR version 10-M
 * (213 bytes) next to a 64-byte Ed25519 signature, and this way a photographed QR leaks nothing.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { prepared } from "../../../db/database.ts";
import { cardTokens } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { displayNameOf } from "../../domain/names.ts";
import { isValidLuhn } from "../../domain/luhn.ts";
import { AppError, invalidField, type ErrorCode } from "../../errors.ts";
import { toBase64Url } from "../../lib/crypto.ts";
import { cryptoRandomBytes } from "../../lib/ids.ts";
import { signToken, TokenRejected, verifyToken, type VerifyFailure } from "../../lib/jwt.ts";
import { activeCardOf, findCardById, findCardByNumber } from "./cards.ts";
import { balanceOf } from "../../store/ledger.ts";
import { recordedInteractionStatements } from "../../store/interactions.ts";
import { findMemberRow } from "../members/members.ts";
import { memberOffers } from "../offers/offers.ts";
import type { Principal } from "../../domain/principal.ts";
import { isoTime } from "../../lib/time.ts";

/** Our own JOSE `typ` for card tokens: short, because every byte counts inside the QR code. */
export const CARD_TOKEN_TYP = "dgc";
/** No card token lives longer than this, whatever the configuration says. */
export const CARD_TOKEN_MAX_LIFETIME_S = 120;

export async function mintCardToken(deps: Deps, memberId: string) {
  const card = await activeCardOf(deps, memberId);
  if (!card) throw new AppError("card_not_found", "The member has no active card.");
  const now = deps.clock();
  const issuedAtS = Math.floor(now / 1000);
  const expiresAtS = issuedAtS + Math.min(deps.config.CARD_TOKEN_TTL_SECONDS, CARD_TOKEN_MAX_LIFETIME_S);
  const jti = toBase64Url(cryptoRandomBytes(6)); // 48 random bits, 8 characters
  const { db } = deps.database;
  await deps.database.atomic([
    // Keep the table small: a card's expired tokens go when it mints a new one.
    db.delete(cardTokens).where(and(eq(cardTokens.cardId, card.id), lt(cardTokens.expiresAt, now))),
    db.insert(cardTokens).values({ jti, cardId: card.id, issuedAt: now, expiresAt: expiresAtS * 1000 }),
  ]);
  const { kid, key } = await deps.keys.signingKey();
  const token = await signToken({ kid, key, typ: CARD_TOKEN_TYP, claims: { jti }, issuedAtS, expiresAtS });
  return { token, expiresAt: isoTime(expiresAtS * 1000), cardNumber: card.number };
}

const rejectionCodes: Record<VerifyFailure, ErrorCode> = {
  malformed: "card_token_malformed",
  unsigned: "card_token_unsigned",
  alg_not_allowed: "card_token_alg_not_allowed",
  wrong_type: "card_token_wrong_type",
  unknown_kid: "card_token_unknown_kid",
  bad_signature: "card_token_bad_signature",
  expired: "card_token_expired",
  invalid_claims: "card_token_invalid_claims",
};

const rejectionText: Record<VerifyFailure, string> = {
  malformed: "The card token is not a compact JWS.",
  unsigned: "Unsigned tokens (alg none) are never accepted.",
  alg_not_allowed: "Card tokens are signed with EdDSA only.",
  wrong_type: "This is not a card token.",
  unknown_kid: "The token was signed with a key this service does not know.",
  bad_signature: "The card token's signature does not verify.",
  expired: "The card token has expired; ask the member to refresh the card.",
  invalid_claims: "The card token's claims are not acceptable.",
};

async function cardOfToken(deps: Deps, token: string) {
  let jti: string | undefined;
  try {
    const payload = await verifyToken({
      token,
      typ: CARD_TOKEN_TYP,
      keyFor: (kid) => deps.keys.verificationKey(kid),
      nowMs: deps.clock(),
      maxLifetimeS: CARD_TOKEN_MAX_LIFETIME_S,
    });
    jti = payload.jti;
  } catch (error) {
    if (error instanceof TokenRejected) {
      throw new AppError(rejectionCodes[error.reason], rejectionText[error.reason]);
    }
    throw error;
  }
  const query = prepared(deps.database.db, "cardTokens.byJti", (db) => db.select().from(cardTokens).where(eq(cardTokens.jti, sql.placeholder("jti"))).prepare());
  const row = jti ? await query.get({ jti }) : undefined;
  if (!row) throw new AppError("card_token_unknown", "This card token was not issued here.");
  return { card: await findCardById(deps, row.cardId), jti: row.jti };
}

export interface PosSummary {
  memberId: string;
  cardNumber: string;
  displayName: string;
  tier: string;
  balance: { available: number };
  offers: Array<{ id: string; name: string; kind: "percent" | "amount" | "points_reward"; minSpendMinor: number; stackable: boolean; pointsCost: number }>;
}

/**
 * The card behind a presentment — a scanned token or a number typed by hand — refusing blocked,
 * lost and replaced cards with their own codes.
 */
export async function resolvePresentedCard(deps: Deps, input: { token?: string | undefined; cardNumber?: string | undefined }) {
  let card;
  let tokenJti: string | null = null;
  if (input.token !== undefined) {
    ({ card, jti: tokenJti } = await cardOfToken(deps, input.token));
  } else {
    const number = (input.cardNumber ?? "").replace(/[\s-]/g, "");
    if (!isValidLuhn(number)) {
      throw invalidField("cardNumber", "Check digit mismatch: was it typed correctly?", "The card number's check digit is wrong.");
    }
    card = await findCardByNumber(deps, number);
  }
  if (card.status === "blocked" || card.status === "lost") {
    throw new AppError("card_blocked", `This card is ${card.status}.`, { status: card.status });
  }
  if (card.status === "replaced") {
    throw new AppError("card_replaced", "This card was replaced; ask for the member's current card.");
  }
  // The token's jti goes with it: a purchase consumes it (a QR token pays once).
  return { card, tokenJti, member: await findMemberRow(deps, card.memberId) };
}

/**
 * What a partner's till learns from a presented card: enough to serve the member, no contact
 * details. The scan itself is an interaction of the member's (a visit, even without a purchase).
 */
export async function verifyPresentment(deps: Deps, actor: Principal, input: { token?: string | undefined; cardNumber?: string | undefined }): Promise<PosSummary> {
  const { card, member } = await resolvePresentedCard(deps, input);
  await deps.database.atomic(
    recordedInteractionStatements(deps.clock(), {
      memberId: member.id,
      kind: "card_scan",
      channel: "store",
      partnerId: actor.role === "partner" ? actor.partnerId : null,
      reference: card.number,
      attributes: { presented: input.token !== undefined ? "qr_token" : "card_number" },
      occurredAt: deps.clock(),
    }),
  );
  const balance = await balanceOf(deps, member.id);
  const { items } = await memberOffers(deps, actor, member.id);
  return {
    memberId: member.id,
    cardNumber: card.number,
    displayName: displayNameOf(member.name, member.preferredName),
    tier: member.tier,
    balance: { available: balance.available },
    offers: items.map((o) => ({
      id: o.id,
      name: o.name,
      kind: o.reward.kind,
      minSpendMinor: o.conditions.minSpendMinor ?? 0,
      stackable: o.stackable,
      pointsCost: o.reward.kind === "points_reward" ? o.reward.pointsCost : 0,
    })),
  };
}
