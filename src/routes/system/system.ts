/** Unauthenticated system routes: health, the JWKS and the interactive API docs. */
import { createRoute, z } from "@hono/zod-openapi";
import { pingDatabase } from "../../services/system/health.ts";
import { json } from "../shared/common.ts";
import { createRouter } from "../shared/common.ts";
import { isoTime } from "../../lib/time.ts";

const SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5";

export const systemRouter = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["System"],
      summary: "Liveness and database reachability",
      responses: {
        200: json(z.object({ status: z.literal("ok"), driver: z.string(), time: z.string() }), "Healthy"),
        503: json(z.object({ status: z.literal("unavailable"), driver: z.string(), time: z.string() }), "The database does not answer"),
      },
    }),
    async (c) => {
      const { deps } = c.var;
      const { database, clock } = deps;
      const time = isoTime(clock());
      try {
        await pingDatabase(deps);
        return c.json({ status: "ok" as const, driver: database.driver, time }, 200);
      } catch {
        return c.json({ status: "unavailable" as const, driver: database.driver, time }, 503);
      }
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/.well-known/jwks.json",
      tags: ["System"],
      summary: "Public keys that verify dangol's tokens (active and retired)",
      responses: {
        200: json(z.object({ keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() }).partial()) }), "The JWKS"),
      },
    }),
    async (c) => c.json(await c.var.deps.keys.jwks(), 200, { "cache-control": "public, max-age=300" }),
  );

/** Swagger UI over /openapi.json. On Node its assets come from the installed package (no network). */
systemRouter.get("/docs", (c) => {
  const local = c.var.deps.docsAssets !== undefined;
  const css = local ? "/docs/swagger-ui.css" : `${SWAGGER_CDN}/swagger-ui.css`;
  const js = local ? "/docs/swagger-ui-bundle.js" : `${SWAGGER_CDN}/swagger-ui-bundle.js`;
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dangol API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${css}"></head>
<body><div id="swagger-ui"></div><script src="${js}"></script>
<script src="/docs/init.js"></script></body></html>`);
});

systemRouter.get("/docs/init.js", (c) =>
  c.body(`window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true });`, 200, {
    "content-type": "text/javascript; charset=utf-8",
  }),
);

systemRouter.get("/docs/:asset{swagger-ui\\.css|swagger-ui-bundle\\.js}", (c) => {
  const assets = c.var.deps.docsAssets;
  if (!assets) return c.notFound();
  const isCss = c.req.param("asset").endsWith(".css");
  return c.body(isCss ? assets.css : assets.js, 200, {
    "content-type": isCss ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=86400",
  });
});
