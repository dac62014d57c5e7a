/** Point movements under their Idempotency-Key (see services/idempotency/keys.ts and services/movements.ts). */
import { z } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JSONParsed } from "hono/utils/types";
import { AppError, invalidField } from "../../errors.ts";
import { answeredElsewhere, claimKey, completeWithError, releaseClaim, storedResponse, type Claim } from "../../services/idempotency/keys.ts";
import type { Principal } from "../../domain/principal.ts";
import { move, type MovementArgs, type MovementName, type MovementResult } from "../../services/movements.ts";
import type { AppEnv } from "./common.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
// Not kept either: a wrong or missing PIN is corrected by the till retrying the same sale, under
// the same key, once the member has entered it (again).
const transient = new Set(["validation_failed", "concurrent_update", "member_presence_required", "pin_invalid", "pin_locked"]);

function scopeOf(principal: Principal): string {
  switch (principal.role) {
    case "partner":
      return `partner:${principal.partnerId}`;
    case "member":
      return `member:${principal.memberId}`;
    case "admin":
    case "marketer":
      return `staff:${principal.staffId}`;
    case "anonymous":
      return "anonymous";
  }
}

/** The Idempotency-Key header, declared once for every operation that honours it. */
export const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({ param: { name: "idempotency-key", in: "header" }, description: "Makes retries safe: the same key and body get the stored response (1–255 visible ASCII characters, kept 24 hours)" }),
});

/**
 * What the client is sent: the movement's result, whose balance is never null — under a key the
 * answer is the stored one, its balance read inside the movement's unit (store/ledger.ts
 * commitMovement), and the verb leaves it null rather than read it twice. The route's response
 * schema is checked against this type.
 */
type Answer<N extends MovementName> = MovementResult<N> extends { balance: infer B } ? Omit<MovementResult<N>, "balance"> & { balance: NonNullable<B> } : MovementResult<N>;
type Sent<N extends MovementName, S extends ContentfulStatusCode> = Response & TypedResponse<JSONParsed<Answer<N>>, S, "json">;

function send<N extends MovementName, S extends ContentfulStatusCode>(c: Context<AppEnv>, status: number, body: string, replayed: boolean): Sent<N, S> {
  return c.body(body, status as ContentfulStatusCode, {
    "content-type": status >= 400 ? "application/problem+json" : "application/json",
    ...(replayed && { "idempotent-replayed": "true" }),
  }) as unknown as Sent<N, S>;
}

/**
 * Runs a point movement (services/movements.ts) where it is committed, under the request's
 * Idempotency-Key: the one route helper that claims the key, dispatches, and replays the stored
 * answer. The answer itself is stored by the movement, in its own unit, so a movement and its
 * answer commit together or not at all.
 *
 * Without the header the movement simply runs (the business keys still stop double earning).
 * With it: a replay returns the stored status and body; a refusal is stored so that a retry gets
 * the same answer; invalid input or an unexpected failure frees the key for a retry.
 */
export async function moved<N extends MovementName, S extends 200 | 201>(
  c: Context<AppEnv>,
  movement: { name: N; args: Omit<MovementArgs<N>, "claim">; status: S; fingerprint: unknown },
): Promise<Sent<N, S>> {
  const { deps, principal } = c.var;
  const run = (claim: Claim | null) => move(deps, movement.name, { ...movement.args, claim } as MovementArgs<N>);
  const key = c.req.header("idempotency-key");
  if (key === undefined) return send(c, movement.status, JSON.stringify(await run(null)), false);
  if (!KEY_PATTERN.test(key)) {
    throw invalidField("Idempotency-Key", "1–255 visible ASCII characters", "Idempotency-Key must be 1–255 visible ASCII characters.");
  }
  const claimed = await claimKey(deps, { scope: scopeOf(principal), route: `${c.req.method} ${c.req.path}`, key, body: movement.fingerprint });
  if (claimed.kind === "replay") return send(c, claimed.status, claimed.body, true);
  const { claim } = claimed;
  try {
    const result = await run(claim);
    const stored = await storedResponse(deps, claim);
    return send(c, stored?.status ?? movement.status, stored?.body ?? JSON.stringify(result), false);
  } catch (error) {
    // The same key may have been committed by another process meanwhile: that is the answer.
    const elsewhere = await answeredElsewhere(deps, claim);
    if (elsewhere?.kind === "replay") return send(c, elsewhere.status, elsewhere.body, true);
    // Refusals (insufficient points, a duplicate receipt) are the answer to this request and are
    // kept; invalid input and transient failures are not, so a corrected retry can go through.
    if (error instanceof AppError && !transient.has(error.code)) await completeWithError(deps, claim, error, c.var.requestId);
    throw error;
  } finally {
    releaseClaim(claim);
  }
}
