/**
 * Who may call each operation of the OpenAPI document: the one statement of the access rules
 * that the authorization matrix (test/node/authorization.test.ts) and the fuzzer (test/fuzz/) both
 * hold the app to. Keys are "METHOD path" exactly as in the document.
 *
 * "partner" means a partner key acting on its own partner's objects, and only with `scope` when
 * one is named; "memberSelf" a member acting on itself, "memberOther" a member naming someone else
 * (the same credential where the path names no member).
 */
import { partnerScopes, type PartnerScope } from "../../src/domain/principal.ts";

export const ROLES = ["anonymous", "admin", "adminStaff", "marketer", "partner", "memberSelf", "memberOther"] as const;
export type Role = (typeof ROLES)[number];
export { partnerScopes, type PartnerScope };

export const EVERYONE: readonly Role[] = ROLES;
export const ADMINS: readonly Role[] = ["admin", "adminStaff"];
export const STAFF: readonly Role[] = [...ADMINS, "marketer"];
export const MEMBERS: readonly Role[] = ["memberSelf", "memberOther"];

/** The scopes a partner key gets when it is created without naming any. */
export const DEFAULT_PARTNER_SCOPES: readonly PartnerScope[] = ["cards:verify", "purchases:write"];

export interface Access {
  allow: readonly Role[];
  /** The scope a partner key needs, where partners are allowed at all. */
  scope?: PartnerScope;
}

export const ACCESS: Record<string, Access> = {
  "GET /health": { allow: EVERYONE },
  "GET /.well-known/jwks.json": { allow: EVERYONE },
  "POST /v1/auth/login": { allow: EVERYONE },
  "POST /v1/auth/member/start": { allow: EVERYONE },
  "POST /v1/auth/member/verify": { allow: EVERYONE },
  "POST /v1/staff": { allow: ADMINS },
  "GET /v1/staff": { allow: ADMINS },
  "POST /v1/members": { allow: ADMINS },
  "GET /v1/members": { allow: STAFF },
  "GET /v1/members/{memberId}": { allow: [...STAFF, "memberSelf"] },
  "PATCH /v1/members/{memberId}": { allow: [...ADMINS, "memberSelf"] },
  "POST /v1/members/{memberId}/cards": { allow: ADMINS },
  "GET /v1/members/{memberId}/cards": { allow: [...STAFF, "memberSelf"] },
  "POST /v1/cards/verify": { allow: ["partner", ...ADMINS], scope: "cards:verify" },
  "GET /v1/cards/{cardNumber}": { allow: [...STAFF, "memberSelf"] },
  "POST /v1/cards/{cardNumber}/block": { allow: [...ADMINS, "memberSelf"] },
  "POST /v1/cards/{cardNumber}/unblock": { allow: ADMINS },
  "POST /v1/cards/{cardNumber}/replace": { allow: ADMINS },
  "GET /v1/me": { allow: MEMBERS },
  "GET /v1/me/card/token": { allow: MEMBERS },
  "GET /v1/me/card/qr.svg": { allow: MEMBERS },
  "GET /v1/me/card/qr.png": { allow: MEMBERS },
  "PUT /v1/me/pin": { allow: MEMBERS },
  "DELETE /v1/me/pin": { allow: MEMBERS },
  "DELETE /v1/members/{memberId}/pin": { allow: ADMINS },
  "POST /v1/partners": { allow: ADMINS },
  "GET /v1/partners": { allow: STAFF },
  "GET /v1/partners/{partnerId}": { allow: [...STAFF, "partner"] },
  "POST /v1/partners/{partnerId}/keys": { allow: ADMINS },
  "GET /v1/partners/{partnerId}/keys": { allow: ADMINS },
  "POST /v1/partners/{partnerId}/keys/{keyId}/revoke": { allow: ADMINS },
  "PATCH /v1/partners/{partnerId}": { allow: ADMINS },
  "POST /v1/partners/{partnerId}/stores": { allow: ADMINS },
  "GET /v1/partners/{partnerId}/stores": { allow: [...STAFF, "partner"] },
  "GET /v1/partners/{partnerId}/stores/{storeId}": { allow: [...STAFF, "partner"] },
  "PATCH /v1/partners/{partnerId}/stores/{storeId}": { allow: ADMINS },
  "POST /v1/purchases": { allow: ["partner", ...ADMINS], scope: "purchases:write" },
  "GET /v1/purchases/{purchaseId}": { allow: ["partner", ...STAFF] },
  "POST /v1/purchases/{purchaseId}/refunds": { allow: ["partner", ...ADMINS], scope: "purchases:write" },
  "POST /v1/purchases/{purchaseId}/void": { allow: ["partner", ...ADMINS], scope: "purchases:write" },
  "GET /v1/partners/{partnerId}/statements/{month}": { allow: [...STAFF, "partner"], scope: "statements:read" },
  "POST /v1/offers": { allow: [...ADMINS, "partner"], scope: "offers:write" },
  "GET /v1/offers": { allow: [...STAFF, "partner"] },
  "GET /v1/offers/{offerId}": { allow: [...STAFF, "partner"] },
  "PATCH /v1/offers/{offerId}": { allow: [...ADMINS, "partner"], scope: "offers:write" },
  "GET /v1/members/{memberId}/offers": { allow: [...STAFF, "partner", "memberSelf"] },
  "GET /v1/members/{memberId}/profile": { allow: [...STAFF, "memberSelf"] },
  "POST /v1/interactions": { allow: [...ADMINS, "partner"], scope: "interactions:write" },
  "GET /v1/members/{memberId}/interactions": { allow: [...STAFF, "memberSelf"] },
  "POST /v1/purchases/quote": { allow: ["partner", ...ADMINS], scope: "purchases:write" },
  "POST /v1/segments/preview": { allow: STAFF },
  "POST /v1/segments": { allow: STAFF },
  "GET /v1/segments": { allow: STAFF },
  "GET /v1/segments/{segmentId}": { allow: STAFF },
  "PATCH /v1/segments/{segmentId}": { allow: STAFF },
  "GET /v1/segments/{segmentId}/members": { allow: STAFF },
  "POST /v1/segments/{segmentId}/refresh": { allow: STAFF },
  "GET /v1/custom-attributes": { allow: STAFF },
  "PUT /v1/custom-attributes/{key}": { allow: ADMINS },
  "GET /v1/members/{memberId}/attributes": { allow: [...STAFF, "memberSelf"] },
  "PUT /v1/members/{memberId}/attributes": { allow: ADMINS },
  "GET /v1/members/{memberId}/balance": { allow: [...STAFF, "memberSelf"] },
  "GET /v1/members/{memberId}/ledger": { allow: [...STAFF, "memberSelf"] },
  "GET /v1/members/{memberId}/tier": { allow: [...STAFF, "memberSelf"] },
  "POST /v1/members/{memberId}/adjustments": { allow: ADMINS },
  "GET /v1/program": { allow: STAFF },
  "PUT /v1/program": { allow: ADMINS },
  "GET /v1/outbox": { allow: ADMINS },
  "GET /v1/admin/signing-keys": { allow: ADMINS },
  "POST /v1/admin/signing-keys/rotate": { allow: ADMINS },
  "POST /v1/jobs/points": { allow: ADMINS },
  "POST /v1/jobs/recompute": { allow: ADMINS },
  "GET /v1/analytics/rfm": { allow: STAFF },
  "GET /v1/analytics/pareto": { allow: STAFF },
  "GET /v1/analytics/clv": { allow: STAFF },
  "GET /v1/admin/ledger/check": { allow: ADMINS },
  "DELETE /v1/admin/signing-keys/{kid}": { allow: ADMINS },
};

/** Plain Hono routes outside the document: the document itself and Swagger UI. */
export const PLAIN_ROUTES: Record<string, Access> = {
  "GET /openapi.json": { allow: EVERYONE },
  "GET /docs": { allow: EVERYONE },
  "GET /docs/init.js": { allow: EVERYONE },
};

/** Whether a role may succeed at an operation; a partner role is taken to hold `scopes`. */
export function mayCall(access: Access, role: Role, scopes: readonly PartnerScope[] = DEFAULT_PARTNER_SCOPES): boolean {
  if (!access.allow.includes(role)) return false;
  return role !== "partner" || access.scope === undefined || scopes.includes(access.scope);
}
