import { AppError } from "../errors.ts";

/** Who is calling. Resolved once per request from the bearer credential (see services/auth/auth.ts). */
export type Role = "admin" | "marketer" | "partner" | "member";

/** What a partner API key may be allowed to do; a key holds one or more. */
export const partnerScopes = ["cards:verify", "purchases:write", "offers:write", "statements:read", "interactions:write"] as const;
export type PartnerScope = (typeof partnerScopes)[number];

export type Principal =
  | { role: "anonymous" }
  | { role: "admin" | "marketer"; staffId: string }
  | { role: "partner"; partnerId: string; keyId: string; scopes: string[] }
  | { role: "member"; memberId: string };

/** A partner key may do only what its scopes say; every other principal is judged by its role. */
export function assertScope(principal: Principal, scope: PartnerScope): void {
  if (principal.role === "partner" && !principal.scopes.includes(scope)) throw new AppError("forbidden", `This API key lacks the ${scope} scope.`);
}

/**
 * The partner a call acts for: a partner key's own — naming another partner is refused — or the
 * one staff name (null when they name none; the verb decides whether it needs one).
 */
export function partnerActingFor(principal: Principal, named: string | null | undefined): string | null {
  if (principal.role !== "partner") return named ?? null;
  if (named != null && named !== principal.partnerId) throw new AppError("forbidden", "A partner key acts for its own partner only.");
  return principal.partnerId;
}

/** The bootstrap ADMIN_TOKEN acts as this staff id in audit records. */
export const BOOTSTRAP_ADMIN_ID = "bootstrap-admin";
