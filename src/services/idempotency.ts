/**
 * Idempotency-Key, as Stripe does it: the first request with a key claims it; a retry with the
 * same key and body gets the stored status and body back (Idempotent-Replayed: true); the same
 * key with another body is a 422; a retry while the first is still running is a 409.
 * The claim's completion is a statement in the same atomic unit as the ledger transaction, so a
 * stored response exists exactly when the points moved.
 */
import { and, eq, lt, sql, type SQL } from "drizzle-orm";
import { prepared, type Statement } from "../../db/database.ts";
import { idempotencyKeys } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AppError, problemOf } from "../errors.ts";
import { randomSecret, sha256Hex } from "../lib/crypto.ts";

export const IDEMPOTENCY_TTL_MS = 7 * 86_400_000;
/** A claim whose request died (a crash) can be taken over after this long. */
const LEASE_MS = 60_000;

export interface Claim {
  scope: string;
  route: string;
  key: string;
  token: string;
  /** The statement that stores the response; `body` may embed SQL read when the unit runs. */
  complete(status: number, body: SQL | string): Statement;
}

export type ClaimResult =
  | { kind: "claimed"; claim: Claim }
  | { kind: "replay"; status: number; body: string };

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export async function claimKey(deps: Deps, input: { scope: string; route: string; key: string; body: unknown }): Promise<ClaimResult> {
  const { db } = deps.database;
  const fingerprint = await sha256Hex(canonical(input.body));
  const now = deps.clock();
  const token = randomSecret("", 12);
  const where = and(eq(idempotencyKeys.scope, input.scope), eq(idempotencyKeys.route, input.route), eq(idempotencyKeys.key, input.key));
  const claim: Claim = {
    ...input,
    token,
    complete: (status, body) =>
      sql`UPDATE idempotency_keys SET status = 'done', response_status = ${status}, response_body = ${body}, locked_until = 0
          WHERE scope = ${input.scope} AND route = ${input.route} AND key = ${input.key} AND claim_token = ${token}`,
  };
  // Every keyed write starts here, so this SQL is written by hand (drizzle's builder is slow).
  const [inserted] = await deps.database.atomic([
    sql`INSERT INTO idempotency_keys (scope, route, key, fingerprint, status, claim_token, locked_until, created_at, expires_at)
        VALUES (${input.scope}, ${input.route}, ${input.key}, ${fingerprint}, 'in_flight', ${token}, ${now + LEASE_MS}, ${now}, ${now + IDEMPOTENCY_TTL_MS})
        ON CONFLICT DO NOTHING`,
  ]);
  if (inserted === 1) return { kind: "claimed", claim };

  const existing = await keyRecord(deps, input);
  if (!existing) return claimKey(deps, input); // purged between the two statements
  if (existing.fingerprint !== fingerprint) {
    throw new AppError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  if (existing.status === "done") return { kind: "replay", status: existing.responseStatus ?? 200, body: existing.responseBody ?? "{}" };
  if (existing.lockedUntil > now) {
    throw new AppError("idempotency_in_flight", "A request with this Idempotency-Key is still being processed; retry shortly.");
  }
  // The first attempt died without finishing (nothing committed with it): take the claim over.
  const [taken] = await deps.database.atomic([
    db.update(idempotencyKeys).set({ claimToken: token, lockedUntil: now + LEASE_MS }).where(and(where, eq(idempotencyKeys.claimToken, existing.claimToken))),
  ]);
  if (taken !== 1) throw new AppError("idempotency_in_flight", "Another retry took this Idempotency-Key over.");
  return { kind: "claimed", claim };
}

/** Stores a refusal (insufficient points …) so a retry gets the same answer. */
export async function completeWithError(deps: Deps, claim: Claim, error: AppError, requestId: string) {
  const body = problemOf(error, requestId);
  await deps.database.atomic([claim.complete(body.status, JSON.stringify(body))]);
}

/** Lets a retry run again after an unexpected failure (nothing was committed). */
export async function releaseClaim(deps: Deps, claim: Claim) {
  await deps.database.atomic([
    deps.database.db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, claim.scope), eq(idempotencyKeys.route, claim.route), eq(idempotencyKeys.key, claim.key), eq(idempotencyKeys.claimToken, claim.token), eq(idempotencyKeys.status, "in_flight"))),
  ]);
}

export async function storedResponse(deps: Deps, claim: Claim) {
  const row = await keyRecord(deps, claim);
  return row && { status: row.responseStatus, body: row.responseBody };
}

function keyRecord(deps: Deps, id: { scope: string; route: string; key: string }) {
  const query = prepared(deps.database.db, "idempotency.byKey", (db) =>
    db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, sql.placeholder("scope")), eq(idempotencyKeys.route, sql.placeholder("route")), eq(idempotencyKeys.key, sql.placeholder("key"))))
      .prepare(),
  );
  return query.get({ scope: id.scope, route: id.route, key: id.key });
}

/** Deletes records past their 7 days. */
export async function purgeIdempotencyKeys(deps: Deps): Promise<number> {
  const [deleted] = await deps.database.atomic([deps.database.db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, deps.clock()))]);
  return deleted ?? 0;
}
