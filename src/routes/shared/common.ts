/** What every router shares: the typed env, the validation hook, auth guards, common schemas. */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { Deps } from "../../deps.ts";
import { AppError, fieldErrorsOf } from "../../errors.ts";
import { problemResponse } from "./problem.ts";
import { assertScope, type PartnerScope, type Principal, type Role } from "../../domain/principal.ts";

export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    principal: Principal;
    authError: AppError | null;
  };
}

/** Zod failures of any request part become one validation_failed problem naming every field. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = fieldErrorsOf(result.error.issues, [], result.target);
      const error = new AppError("validation_failed", "The request has invalid fields.", { errors });
      return problemResponse(c, error);
    },
  });
}

export const bearer = [{ bearer: [] }];

/** On Workers, the request's waitUntil, which keeps the isolate alive for work after the response; on Node, nothing is needed. */
export function keepAliveOf(c: Context<AppEnv>): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined; // Node: Hono has no execution context, and the process outlives the response
  }
}

/**
 * Lets only the given roles through, and a partner key only with `scope` when one is named
 * (`allow("partner", "admin", { scope: "purchases:write" })`); a bad credential is a 401
 * whatever the route.
 */
export function allow(...rules: Array<Role | { scope: PartnerScope }>): MiddlewareHandler<AppEnv> {
  const roles = rules.filter((r): r is Role => typeof r === "string");
  const scope = rules.find((r): r is { scope: PartnerScope } => typeof r === "object")?.scope;
  return async (c, next) => {
    const authError = c.get("authError");
    if (authError) throw authError;
    const principal = c.get("principal");
    if (principal.role === "anonymous") throw new AppError("unauthorized", "A bearer credential is required.");
    if (!roles.includes(principal.role)) {
      throw new AppError("forbidden", "This credential may not do that.");
    }
    if (scope) assertScope(principal, scope);
    await next();
  };
}

/** Members may act only on themselves; staff on anyone. */
export function assertSelfOrStaff(principal: Principal, memberId: string) {
  if (principal.role === "member" && principal.memberId !== memberId) {
    throw new AppError("forbidden", "Members may only see their own record.");
  }
}

export const IdParam = (name: string, example: string) =>
  z.string().min(1).max(64).openapi({ param: { name, in: "path" }, example });

/** The path parameters several resources share, declared once. */
export const MemberParams = z.object({ memberId: IdParam("memberId", "mem_01JD0000000000000000000000") });
export const PartnerParams = z.object({ partnerId: IdParam("partnerId", "prt_01JD0000000000000000000000") });
export const OfferParams = z.object({ offerId: IdParam("offerId", "ofr_01JD0000000000000000000000") });
export const PurchaseParams = z.object({ purchaseId: IdParam("purchaseId", "pur_01JD0000000000000000000000") });
export const SegmentParams = z.object({ segmentId: IdParam("segmentId", "seg_01JD0000000000000000000000") });

export const PageQuerySchema = z.object({
  cursor: z.string().max(200).optional().openapi({ description: "nextCursor from the previous page" }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "1–100, default 20" }),
});

export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
}

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});
