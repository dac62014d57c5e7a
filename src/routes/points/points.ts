/** A member's points: balance, explainable history, operator adjustments; the program's rules. */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { ProgramSchema } from "../../domain/program.ts";
import { checkLedger } from "../../services/points/ledger-check.ts";
import { move } from "../../services/movements.ts";
import { memberBalance, memberLedger, memberTier } from "../../services/points/points.ts";
import { currentProgram, updateProgram } from "../../services/program/program.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, MemberParams, pageOf, PageQuerySchema } from "../shared/common.ts";
import { IdempotencyHeader, moved } from "../shared/idempotent.ts";
import { AdjustmentResultSchema, AdjustmentSchema, BalanceSchema, LedgerItemSchema } from "./schemas.ts";

// The domain schema is plain zod (no .openapi() on it: it may be built before zod is extended).
const ProgramBodySchema = ProgramSchema;
const ProgramVersionSchema = z.object({ version: z.number().int(), program: ProgramBodySchema, createdAt: z.string() }).openapi("ProgramVersion");

export const pointsRouter = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/balance",
      tags: ["Points"],
      summary: "Available and pending points, what is owed, and the next expiries",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams },
      responses: { 200: json(BalanceSchema, "The balance"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await memberBalance(c.var.deps, memberId), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/ledger",
      tags: ["Points"],
      summary: "Every movement of the member's points, newest first, with reasons",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams, query: PageQuerySchema },
      responses: { 200: json(pageOf(LedgerItemSchema, "LedgerPage"), "A page of movements"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await memberLedger(c.var.deps, memberId, c.req.valid("query")), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/tier",
      tags: ["Points"],
      summary: "The member's tier, qualifying points over 12 months, requalification date and history",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams },
      responses: {
        200: json(
          z
            .object({
              tier: z.string(),
              requalifyAt: z.string().nullable(),
              qualifyingPoints: z.number().int(),
              history: z.array(z.object({ from: z.string(), to: z.string(), reason: z.string(), qualifyingPoints: z.number().int(), at: z.string() })),
            })
            .openapi("MemberTier"),
          "The tier",
        ),
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await memberTier(c.var.deps, memberId), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/members/{memberId}/adjustments",
      tags: ["Points"],
      summary: "Add or take points, with a reason (audited)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: MemberParams, headers: IdempotencyHeader, ...jsonBody(AdjustmentSchema) },
      responses: { 201: json(AdjustmentResultSchema, "Adjusted"), ...errorResponses(401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      const body = c.req.valid("json");
      return moved(c, { name: "adjustPoints", args: { actor: c.var.principal, memberId, input: body }, status: 201, fingerprint: body });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/program",
      tags: ["Program"],
      summary: "The earning, expiry, redemption and tier rules in force",
      security: bearer,
      middleware: allow("admin", "marketer"),
      responses: { 200: json(ProgramVersionSchema, "The current version"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await currentProgram(c.var.deps), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/program",
      tags: ["Program"],
      summary: "Replace the rules: a new version; earlier purchases keep theirs",
      security: bearer,
      middleware: allow("admin"),
      request: jsonBody(ProgramBodySchema),
      responses: { 200: json(ProgramVersionSchema, "The new version"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await updateProgram(c.var.deps, c.var.principal, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/jobs/points",
      tags: ["Operations"],
      summary: "Run the points jobs now: release pending, expire, notify, requalify tiers (safe to repeat)",
      security: bearer,
      middleware: allow("admin"),
      responses: {
        200: json(z.object({ released: z.number(), expired: z.number(), notices: z.number(), tierChanges: z.number(), idempotencyKeysPurged: z.number() }), "What the run did"),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await move(c.var.deps, "runPointsJobs", {}), 200),
  );

pointsRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/ledger/check",
    tags: ["Operations"],
    summary: "Reconcile the ledger: every invariant, with what violates it (an empty list is good)",
    security: bearer,
    middleware: allow("admin"),
    responses: {
      200: json(z.object({ ok: z.boolean(), violations: z.array(z.object({ invariant: z.string(), subject: z.string(), detail: z.string() })) }), "The result"),
      ...errorResponses(401, 403),
    },
  }),
  async (c) => {
    const violations = await checkLedger(c.var.deps);
    return c.json({ ok: violations.length === 0, violations }, 200);
  },
);
