/** The problem+json edge: an AppError sent as application/problem+json, and its OpenAPI declarations. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorCodes, PROBLEM_LIMITS, problemOf, titles, type AppError, type Problem } from "../../errors.ts";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(errorCodes),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    errorsOmitted: z.number().int().optional().openapi({ description: `How many more field errors there were than the ${PROBLEM_LIMITS.maxFieldErrors} listed` }),
  })
  .passthrough()
  .openapi("Problem");

// The schema documents the body errors.ts builds: each must be assignable to the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const problemSchemaMatches: Same<z.infer<typeof ProblemSchema>, Problem> = true;
void problemSchemaMatches;

/** Built through the context so headers set by middleware (the request id) are kept. */
export function problemResponse(c: Context, error: AppError): Response {
  const requestId: unknown = c.get("requestId");
  const body = problemOf(error, typeof requestId === "string" ? requestId : "unknown");
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
  });
}

/** OpenAPI declarations of the error responses a route can give, keyed by status. */
export function errorResponses(...statuses: number[]) {
  const all = [...new Set([400, 500, ...statuses])];
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: titles[status] ?? "Error",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}
