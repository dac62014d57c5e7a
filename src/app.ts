/**
 * createApp(deps): the one Hono app both runtimes serve. Cross-cutting concerns live here —
 * request ids, access logs, secure headers, the body limit, authentication, the error path —
 * and each resource's routes live in their own router.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Deps } from "./deps.ts";
import { AppError, errorCodes } from "./errors.ts";
import { problemResponse } from "./routes/shared/problem.ts";
import { describeError } from "./lib/log.ts";
import { adminRouter } from "./routes/system/admin.ts";
import { analyticsRouter } from "./routes/analytics/analytics.ts";
import { authRouter } from "./routes/auth/auth.ts";
import { cardsRouter } from "./routes/cards/cards.ts";
import { customAttributesRouter } from "./routes/members/custom-attributes.ts";
import { INGEST_BODY_LIMIT_BYTES, interactionsRouter } from "./routes/customers/interactions.ts";
import type { AppEnv } from "./routes/shared/common.ts";
import { meRouter } from "./routes/members/me.ts";
import { membersRouter } from "./routes/members/members.ts";
import { offersRouter } from "./routes/offers/offers.ts";
import { profilesRouter } from "./routes/customers/profiles.ts";
import { partnersRouter } from "./routes/partners/partners.ts";
import { pointsRouter } from "./routes/points/points.ts";
import { purchasesRouter } from "./routes/purchases/purchases.ts";
import { boundedBody } from "./routes/shared/request-body.ts";
import { segmentsRouter } from "./routes/segments/segments.ts";
import { statementsRouter } from "./routes/partners/statements.ts";
import { storesRouter } from "./routes/partners/stores.ts";
import { systemRouter } from "./routes/system/system.ts";
import { authenticate } from "./services/auth/auth.ts";

export const BODY_LIMIT_BYTES = 64 * 1024;

export function createApp(deps: Deps) {
  const app = new OpenAPIHono<AppEnv>();

  app.use(requestId());
  app.use(async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  app.use(async (c, next) => {
    const started = Date.now();
    await next();
    // The route pattern, never the path: paths carry card numbers, queries carry names and emails.
    deps.logger.info("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
      role: c.get("principal")?.role ?? "anonymous",
    });
  });
  app.use(secureHeaders());
  // A batch of events is the one body allowed to be larger.
  app.use(boundedBody((c) => (c.req.method === "POST" && c.req.path === "/v1/interactions" ? INGEST_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES)));
  app.use(async (c, next) => {
    // A bad credential fails only the routes that need one: /health stays reachable.
    try {
      c.set("principal", await authenticate(deps, c.req.header("authorization")));
      c.set("authError", null);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      c.set("principal", { role: "anonymous" });
      c.set("authError", error);
    }
    await next();
  });

  const routes = app
    .route("/", systemRouter)
    .route("/", authRouter)
    .route("/", membersRouter)
    .route("/", cardsRouter)
    .route("/", meRouter)
    .route("/", partnersRouter)
    .route("/", storesRouter)
    .route("/", offersRouter)
    .route("/", profilesRouter)
    .route("/", interactionsRouter)
    .route("/", purchasesRouter)
    .route("/", statementsRouter)
    .route("/", pointsRouter)
    .route("/", segmentsRouter)
    .route("/", customAttributesRouter)
    .route("/", analyticsRouter)
    .route("/", adminRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN, a staff session, a partner API key (dg_pk_…) or a member token",
  });
  const documentConfig = {
    openapi: "3.1.0",
    info: {
      title: "dangol",
      version: "0.1.0",
      description: `Loyalty, membership cards and partner benefits for coalition programs. Errors are application/problem+json with a stable \`code\`, one of: ${errorCodes.join(", ")}.`,
    },
  };
  let document: ReturnType<typeof app.getOpenAPI31Document> | null = null;
  app.get("/openapi.json", (c) => {
    // Generated once from the route schemas; the app-wide checks add their responses.
    document ??= withTransportErrors(app.getOpenAPI31Document(documentConfig));
    return c.json(document);
  });

  let allowedMethods: ((path: string) => string[]) | null = null;
  app.notFound((c) => {
    allowedMethods ??= methodsByPath(app.routes);
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) return problemResponse(c, new AppError("not_found", `No route for ${c.req.method} ${c.req.path}.`));
    c.header("allow", allowed.join(", "));
    return problemResponse(c, new AppError("method_not_allowed", `${c.req.method} is not allowed here; use ${allowed.join(", ")}.`));
  });
  app.onError((error, c) => {
    const id = c.get("requestId") ?? "unknown";
    if (error instanceof AppError) return problemResponse(c, error);
    if (error instanceof HTTPException) {
      if (error.status === 413) return problemResponse(c, new AppError("payload_too_large", error.message));
      if (error.status === 400) return problemResponse(c, new AppError("malformed_request", error.message || "Malformed request."));
      // @hono/zod-openapi refuses a body whose content-type the route does not declare.
      if (error.status === 415) return problemResponse(c, new AppError("unsupported_media_type", "Send the body as application/json."));
    }
    deps.logger.error("unhandled error", { requestId: id, error: describeError(error) });
    return problemResponse(c, new AppError("internal_error", "Something went wrong on our side; the request id helps us find it."));
  });

  return routes;
}

export type App = ReturnType<typeof createApp>;

/**
 * The methods served at a path, for a 405's Allow header: the app's routes (`/v1/members/:memberId`)
 * as patterns, matched in the order Hono registered them. Middleware entries (method ALL) are not routes.
 */
function methodsByPath(routes: ReadonlyArray<{ method: string; path: string }>): (path: string) => string[] {
  const patterns = routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*")}$`),
    }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };
}

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/**
 * The answers the app-wide checks can give, declared on the operations they apply to: 431 on
 * every one (the URL and headers, on Node), 413 wherever a body may be sent (the limit applies to
 * every method but GET and HEAD), 415 wherever a JSON body is declared.
 */
function withTransportErrors(document: Document): Document {
  const problem = (description: string) => ({
    description,
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  });
  for (const item of Object.values(document.paths ?? {})) {
    for (const [method, operation] of [["get", item.get], ["post", item.post], ["put", item.put], ["patch", item.patch], ["delete", item.delete]] as const) {
      if (!operation) continue;
      const responses = (operation.responses ??= {});
      responses["431"] ??= problem("Request header fields too large");
      if (method === "get") continue;
      responses["413"] ??= problem("Payload too large");
      if (operation.requestBody) responses["415"] ??= problem("Unsupported media type");
    }
  }
  return document;
}
