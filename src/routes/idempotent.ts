/** Runs a point-moving handler under its Idempotency-Key (see services/idempotency/keys.ts). */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, invalidField } from "../errors.ts";
import { answeredElsewhere, claimKey, completeWithError, releaseClaim, storedResponse, type Claim } from "../services/idempotency/keys.ts";
import type { Principal } from "../domain/principal.ts";
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

function send(c: Context<AppEnv>, status: number, body: string, replayed: boolean): never {
  return c.body(body, status as ContentfulStatusCode, {
    "content-type": status >= 400 ? "application/problem+json" : "application/json",
    ...(replayed && { "idempotent-replayed": "true" }),
  }) as never;
}

/**
 * Without the header the handler simply runs (the business keys still stop double earning).
 * With it: a replay returns the stored status and body; a refusal is stored so that a retry gets
 * the same answer; invalid input or an unexpected failure frees the key for a retry.
 */
// The result is typed `never` so a route may return it where its declared response type is
// expected: the body is the handler's own (or its stored replay), not something this builds.
export async function idempotent(c: Context<AppEnv>, body: unknown, run: (claim: Claim | null) => Promise<{ status: number; body: unknown }>): Promise<never> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) {
    const result = await run(null);
    return send(c, result.status, JSON.stringify(result.body), false);
  }
  if (!KEY_PATTERN.test(key)) {
    throw invalidField("Idempotency-Key", "1–255 visible ASCII characters", "Idempotency-Key must be 1–255 visible ASCII characters.");
  }
  const { deps, principal } = c.var;
  const claimed = await claimKey(deps, { scope: scopeOf(principal), route: `${c.req.method} ${c.req.path}`, key, body });
  if (claimed.kind === "replay") return send(c, claimed.status, claimed.body, true);
  const { claim } = claimed;
  try {
    const result = await run(claim);
    const stored = await storedResponse(deps, claim);
    return send(c, stored?.status ?? result.status, stored?.body ?? JSON.stringify(result.body), false);
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
