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
import { and, eq, sql } from "drizzle-orm";
import { prepared, rendered, type RenderedStatement } from "../../db/database.ts";
import { idempotencyKeys } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
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

/** The stored record of a key, if its first request has committed. */
export function keyRecord(deps: Deps, id: KeyId) {
  const query = prepared(deps.database.db, "idempotency.byKey", (db) =>
    db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, sql.placeholder("scope")), eq(idempotencyKeys.route, sql.placeholder("route")), eq(idempotencyKeys.key, sql.placeholder("key"))))
      .prepare(),
  );
  return query.get({ scope: id.scope, route: id.route, key: id.key });
}

/**
 * The statement that stores the response, in the unit that moves the points; `body` may embed SQL
 * read when the unit runs. Rendered as written: every keyed write runs it.
 */
export function completion(claim: Claim, status: number, body: RenderedStatement | string): RenderedStatement {
  return rendered`INSERT INTO idempotency_keys (scope, route, key, fingerprint, response_status, response_body, created_at, expires_at)
      VALUES (${claim.scope}, ${claim.route}, ${claim.key}, ${claim.fingerprint}, ${status}, ${body}, ${claim.claimedAt}, ${claim.claimedAt + IDEMPOTENCY_TTL_MS})`;
}
