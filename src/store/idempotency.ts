/**
 * Idempotency-Key, as Stripe does it: a retry with the same key and body gets the stored status
 * and body back (Idempotent-Replayed: true); the same key with another body is a 422; a retry
 * while the first is still running is a 409.
 *
 * The key's record is written by a statement inside the same atomic unit as the ledger
 * transaction, so it exists exactly when the points moved, and one commit serves both. While the
 * first request runs, this process knows the key is taken; a duplicate that reaches another
 * process finds the record once the first commits (its own unit fails on the key) and is answered
 * with the stored response.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { prepared, rendered, type RenderedStatement } from "../../db/database.ts";
import { idempotencyKeys } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AppError, problemOf } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { DAY_MS } from "../lib/time.ts";

export const IDEMPOTENCY_TTL_MS = 7 * DAY_MS;

export interface KeyId {
  scope: string;
  route: string;
  key: string;
}

/** A key this request holds: plain data, so it can go with the purchase to the writer thread. */
export interface Claim extends KeyId {
  fingerprint: string;
  claimedAt: number;
}

export type ClaimResult = { kind: "claimed"; claim: Claim } | { kind: "replay"; status: number; body: string };

/** Keys whose first request is running in this process (an isolate, on Workers). */
const inFlight = new Set<string>();
const idOf = (k: KeyId) => JSON.stringify([k.scope, k.route, k.key]);

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

function keyRecord(deps: Deps, id: KeyId) {
  const query = prepared(deps.database.db, "idempotency.byKey", (db) =>
    db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, sql.placeholder("scope")), eq(idempotencyKeys.route, sql.placeholder("route")), eq(idempotencyKeys.key, sql.placeholder("key"))))
      .prepare(),
  );
  return query.get({ scope: id.scope, route: id.route, key: id.key });
}

function answerFor(record: typeof idempotencyKeys.$inferSelect, fingerprint: string): ClaimResult {
  if (record.fingerprint !== fingerprint) {
    throw new AppError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  return { kind: "replay", status: record.responseStatus, body: record.responseBody };
}

export async function claimKey(deps: Deps, input: KeyId & { body: unknown }): Promise<ClaimResult> {
  const id: KeyId = { scope: input.scope, route: input.route, key: input.key };
  const fingerprint = sha256Hex(canonical(input.body));
  const existing = await keyRecord(deps, id);
  if (existing) return answerFor(existing, fingerprint);
  if (inFlight.has(idOf(id))) {
    throw new AppError("idempotency_in_flight", "A request with this Idempotency-Key is still being processed; retry shortly.");
  }
  inFlight.add(idOf(id));
  return { kind: "claimed", claim: { ...id, fingerprint, claimedAt: deps.clock() } };
}

/**
 * The statement that stores the response, in the unit that moves the points; `body` may embed SQL
 * read when the unit runs. Rendered as written: every keyed write runs it.
 */
export function completion(claim: Claim, status: number, body: RenderedStatement | string): RenderedStatement {
  return rendered`INSERT INTO idempotency_keys (scope, route, key, fingerprint, response_status, response_body, created_at, expires_at)
      VALUES (${claim.scope}, ${claim.route}, ${claim.key}, ${claim.fingerprint}, ${status}, ${body}, ${claim.claimedAt}, ${claim.claimedAt + IDEMPOTENCY_TTL_MS})`;
}

/** The request is over, however it ended: the key is free in this process again. */
export function releaseClaim(claim: Claim) {
  inFlight.delete(idOf(claim));
}

/** After a failure: if another process committed this key meanwhile, its answer is ours too. */
export async function answeredElsewhere(deps: Deps, claim: Claim): Promise<ClaimResult | null> {
  const record = await keyRecord(deps, claim);
  return record ? answerFor(record, claim.fingerprint) : null;
}

/** Stores a refusal (insufficient points …) so a retry gets the same answer. */
export async function completeWithError(deps: Deps, claim: Claim, error: AppError, requestId: string) {
  const body = problemOf(error, requestId);
  await deps.database.atomic([rendered`${completion(claim, body.status, JSON.stringify(body))} ON CONFLICT DO NOTHING`]);
}

export async function storedResponse(deps: Deps, claim: Claim) {
  const row = await keyRecord(deps, claim);
  return row && { status: row.responseStatus, body: row.responseBody };
}

/** Deletes records past their 7 days. */
export async function purgeIdempotencyKeys(deps: Deps): Promise<number> {
  const [deleted] = await deps.database.atomic([deps.database.db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, deps.clock()))]);
  return deleted ?? 0;
}
