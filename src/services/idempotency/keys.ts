/** The Idempotency-Key verbs: claim a key, replay its stored answer, keep a refusal, purge old keys (the record's statements are in store/idempotency.ts). */
import { lt } from "drizzle-orm";
import { rendered } from "../../../db/database.ts";
import { idempotencyKeys } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError, problemOf } from "../../errors.ts";
import { sha256Hex } from "../../lib/crypto.ts";
import { completion, keyRecord, type Claim, type ClaimResult, type KeyId } from "../../store/idempotency.ts";

/** The claim a keyed handler holds, for the routes that pass it on. */
export type { Claim };

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
