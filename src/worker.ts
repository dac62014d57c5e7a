/**
 * Workers entry: validates the bindings, builds deps on the D1 database and serves the same app.
 * Migrations are applied by wrangler (`wrangler d1 migrations apply`) from db/migrations.
 */
import type { ExecutionContext } from "hono";
import { openD1 } from "../db/d1.ts";
import { createApp, type App } from "./app.ts";
import { parseConfig } from "./config.ts";
import { createDeps, type Deps } from "./deps.ts";
import { move } from "./services/movements.ts";
import { prepareInstallation } from "./first-run.ts";
import { recompute, recomputeLogFields } from "./services/analytics/recompute.ts";

/** Must match the second cron in wrangler.toml: 03:00 in Korea. */
const RECOMPUTE_CRON = "0 18 * * *";

export interface Env {
  DB: Parameters<typeof openD1>[0];
  [key: string]: unknown;
}

let cached: { app: App; deps: Deps; ready: Promise<unknown> } | null = null;

/** One app per isolate; the first request also makes sure a signing key exists. */
function appFor(env: Env) {
  if (cached) return cached;
  if (!env.DB) throw new Error("The D1 binding DB is missing: see wrangler.toml");
  const config = parseConfig(env);
  const deps = createDeps({ config, database: openD1(env.DB) });
  // On Workers nothing can print a generated admin token, so ADMIN_TOKEN must be a secret, and
  // the demo seed runs only when SEED_DEMO is set to 1 for the deployment.
  const ready = prepareInstallation(deps, { seedDemo: env.SEED_DEMO === "1", generateAdminToken: false });
  cached = { app: createApp(deps), deps, ready };
  ready.catch(() => {
    cached = null; // try again on the next request
  });
  return cached;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { app, ready } = appFor(env);
    await ready;
    return app.fetch(request, env, ctx);
  },
  /** The cron triggers in wrangler.toml: the daily recompute, and the points jobs (each safe to run twice). */
  async scheduled(controller: { cron: string }, env: Env, ctx: ExecutionContext): Promise<void> {
    const { deps, ready } = appFor(env);
    await ready;
    if (controller.cron === RECOMPUTE_CRON) {
      ctx.waitUntil(recompute(deps).then((summary) => deps.logger.info("recompute", recomputeLogFields(summary))));
    } else {
      ctx.waitUntil(move(deps, "runPointsJobs", {}).then((report) => deps.logger.info("points jobs", { ...report })));
    }
  },
};
