/** /v1/analytics: RFM, Pareto and lifetime value for marketers; /v1/jobs/recompute to refresh them. */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { clvAnalytics, paretoAnalytics, rfmAnalytics } from "../../services/analytics/analytics.ts";
import { recompute } from "../../services/analytics/recompute.ts";
import { allow, bearer, createRouter, json } from "../shared/common.ts";

const Counts = z.array(z.number().int()).length(5).openapi({ description: "Members with score 1, 2, 3, 4, 5" });

const RfmSchema = z
  .object({
    scoredAt: z.string().nullable(),
    scoredMembers: z.number().int(),
    segments: z.array(z.object({ segment: z.string(), name: z.string(), members: z.number().int(), share: z.number() })),
    scores: z.object({ r: Counts, f: Counts, m: Counts }),
  })
  .openapi("RfmAnalytics");

const ParetoSchema = z
  .object({
    customers: z.number().int(),
    totalRevenue: z.number(),
    top: z.array(z.object({ customerShare: z.number(), customers: z.number().int(), revenueShare: z.number() })),
    customersFor80PctRevenue: z.number().int(),
    customerShareFor80PctRevenue: z.number(),
    gini: z.number(),
    lorenz: z.array(z.object({ customerShare: z.number(), revenueShare: z.number() })),
  })
  .openapi("ParetoAnalytics");

const ClvSchema = z
  .object({
    model: z.record(z.string(), z.unknown()).nullable().openapi({ description: "The fitted BG/NBD and Gamma-Gamma parameters, horizon and discount of the last recompute" }),
    totalClvMinor: z.number().int(),
    lifecycle: z.array(z.object({ lifecycle: z.string(), members: z.number().int(), clvMinor: z.number().int() })),
  })
  .openapi("ClvAnalytics");

const RecomputeSchema = z
  .object({
    members: z.number().int(),
    buyers: z.number().int(),
    bgNbd: z.record(z.string(), z.unknown()).nullable(),
    gammaGamma: z.record(z.string(), z.unknown()).nullable(),
    lifecycle: z.record(z.string(), z.number().int()),
    royalUpgrades: z.number().int(),
    segmentsRefreshed: z.number().int(),
    durationMs: z.number(),
  })
  .openapi("RecomputeResult");

const analytics = (path: string, summary: string) => ({ method: "get" as const, path, tags: ["Analytics"], summary, security: bearer, middleware: allow("admin", "marketer") });

export const analyticsRouter = createRouter()
  .openapi(
    createRoute({
      ...analytics("/v1/analytics/rfm", "RFM segments and score distributions from the last recompute"),
      responses: { 200: json(RfmSchema, "RFM"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await rfmAnalytics(c.var.deps), 200),
  )
  .openapi(
    createRoute({
      ...analytics("/v1/analytics/pareto", "Revenue concentration: the top 1–50% of buyers, the Lorenz curve and the Gini coefficient"),
      responses: { 200: json(ParetoSchema, "Pareto"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await paretoAnalytics(c.var.deps), 200),
  )
  .openapi(
    createRoute({
      ...analytics("/v1/analytics/clv", "The lifetime-value model and value by lifecycle stage"),
      responses: { 200: json(ClvSchema, "CLV"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await clvAnalytics(c.var.deps), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/jobs/recompute",
      tags: ["Operations"],
      summary: "Rebuild RFM scores, refit the lifetime-value models and rescore every member (safe to repeat)",
      security: bearer,
      middleware: allow("admin"),
      responses: { 200: json(RecomputeSchema, "What the run did"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await recompute(c.var.deps), 200),
  );
