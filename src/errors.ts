/**
 * One error path. Services throw AppError with a code from the closed set below; they know
 * nothing of HTTP. The status of each code and the problem body are plain data here; the edge
 * (src/routes/shared/problem.ts) sends that body as application/problem+json and declares it in OpenAPI.
 */
import type { z } from "zod";

const statusByCode = {
  validation_failed: 400,
  malformed_request: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  otp_invalid: 401,
  forbidden: 403,
  not_found: 404,
  card_not_found: 404,
  method_not_allowed: 405,
  member_exists: 409,
  staff_exists: 409,
  active_card_exists: 409,
  card_blocked: 409,
  card_replaced: 409,
  card_state_conflict: 409,
  signing_key_in_use: 409,
  idempotency_in_flight: 409,
  duplicate_receipt: 409,
  nothing_to_refund: 409,
  card_token_used: 409,
  offer_exhausted: 409,
  concurrent_update: 409,
  store_code_taken: 409,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  card_token_malformed: 422,
  card_token_unsigned: 422,
  card_token_alg_not_allowed: 422,
  card_token_wrong_type: 422,
  card_token_unknown_kid: 422,
  card_token_bad_signature: 422,
  card_token_expired: 422,
  card_token_invalid_claims: 422,
  card_token_unknown: 422,
  idempotency_key_reused: 422,
  insufficient_points: 422,
  redemption_not_allowed: 422,
  refund_exceeds_remaining: 422,
  offer_not_eligible: 422,
  offers_not_combinable: 422,
  // Proof that the member is at the till, like the card token codes: the partner's key is good
  // (not 401/403); this sale needs the QR card or the member's PIN.
  member_presence_required: 422,
  pin_invalid: 422,
  pin_locked: 422,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof statusByCode;
export const errorCodes = Object.keys(statusByCode) as [ErrorCode, ...ErrorCode[]];

export function statusOf(code: ErrorCode): (typeof statusByCode)[ErrorCode] {
  return statusByCode[code];
}

/** The title of a problem body, by status. */
export const titles: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  431: "Request header fields too large",
  422: "Unprocessable content",
  500: "Internal error",
};

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extras: { errors?: FieldError[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

/**
 * What bounds every problem body, whatever the input: a request with thousands of bad fields (or
 * one very long key) gets the first few, each cut short, and a count of the rest.
 */
export const PROBLEM_LIMITS = { maxFieldErrors: 20, maxFieldLength: 200, maxMessageLength: 300, maxDetailLength: 1_000 } as const;

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair, which would leave half a character.
  const end = /[\ud800-\udbff]/.test(text[max - 2]!) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/** An application/problem+json body; src/routes/shared/problem.ts declares the same shape as ProblemSchema. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[] | undefined;
  /** How many more field errors there were than the PROBLEM_LIMITS.maxFieldErrors listed. */
  errorsOmitted?: number | undefined;
  [extra: string]: unknown;
}

export function problemOf(error: AppError, requestId: string): Problem {
  const status = statusOf(error.code);
  const { errors, ...extras } = error.extras;
  const bounded = errors?.slice(0, PROBLEM_LIMITS.maxFieldErrors).map((e) => ({
    field: cut(e.field, PROBLEM_LIMITS.maxFieldLength),
    message: cut(e.message, PROBLEM_LIMITS.maxMessageLength),
  }));
  const omitted = (errors?.length ?? 0) - (bounded?.length ?? 0);
  return {
    ...extras,
    ...(bounded && { errors: bounded }),
    ...(omitted > 0 && { errorsOmitted: omitted }),
    type: `urn:dangol:problem:${error.code}`,
    title: titles[status] ?? "Error",
    status,
    detail: cut(error.message, PROBLEM_LIMITS.maxDetailLength),
    code: error.code,
    requestId,
  };
}

/** The validation failure of one field, found by a service rather than by a request schema. */
export function invalidField(field: string, message: string, detail = "The request has an invalid field."): AppError {
  return new AppError("validation_failed", detail, { errors: [{ field, message }] });
}

type Issue = z.core.$ZodIssue;

/**
 * Zod issues as field errors, each field path starting with `prefix` (or named `root` when it
 * is the whole input). An unknown key names itself, not the object holding it; a value that
 * matches no branch of a union reports the branches that came closest, so `{}` sent where
 * `{email} | {phone}` is expected names both fields instead of the whole body (unless
 * `unionBranches` is off, for unions that say in their own message what they take).
 */
export function fieldErrorsOf(issues: readonly Issue[], prefix: readonly PropertyKey[], root: string, opts = { unionBranches: true }): FieldError[] {
  const at = (path: readonly PropertyKey[]) => (prefix.length + path.length ? [...prefix, ...path].map(String).join(".") : root);
  const out: FieldError[] = [];
  const collect = (list: readonly Issue[]) => {
    for (const issue of list) {
      if (issue.code === "unrecognized_keys") {
        // zod's message lists every unknown key; repeated per key, the answer grew with their square.
        for (const key of issue.keys) out.push({ field: at([...issue.path, key]), message: "Unknown field" });
      } else if (issue.code === "invalid_union" && issue.errors.length > 0 && opts.unionBranches) {
        const fewest = Math.min(...issue.errors.map((branch) => branch.length));
        const closest = issue.errors.filter((branch) => branch.length === fewest).flat();
        collect(closest.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue));
      } else {
        out.push({ field: at(issue.path), message: issue.message });
      }
    }
  };
  collect(issues);
  const seen = new Set<string>();
  return out.filter((e) => {
    const key = `${e.field}\u0000${e.message}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
}
