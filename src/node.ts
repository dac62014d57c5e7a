/**
 * Node entry: the embedded SQLite file, migrations, first-run preparation, @hono/node-server,
 * clean shutdown, and CLUSTER_WORKERS processes sharing one database file.
 */
import { serve } from "@hono/node-server";
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { migrateSqlite, openSqlite, type OpenOptions } from "../db/sqlite.ts";
import { createApp } from "./app.ts";
import { type Config, parseConfig } from "./config.ts";
import { createDeps, type Deps, type DocsAssets } from "./deps.ts";
import { AppError, problemOf } from "./errors.ts";
import { describeError } from "./lib/log.ts";
import { move } from "./services/movements.ts";
import { recompute, recomputeLogFields } from "./services/analytics/recompute.ts";
import { prepareInstallation } from "./first-run.ts";

/** The server writes through a writer thread (see db/sqlite.ts); short-lived tools need none. */
export function openNodeDeps(config: Config, options: OpenOptions = {}) {
  if (config.DATABASE_PATH !== ":memory:") mkdirSync(dirname(config.DATABASE_PATH), { recursive: true });
  const database = openSqlite(config.DATABASE_PATH, options);
  const docsAssets = loadDocsAssets();
  const writer = database.runTask && { run: database.runTask };
  const deps = createDeps({ config, database, ...(docsAssets && { docsAssets }), ...(writer && { writer }) });
  return { deps, database };
}

function loadDocsAssets(): DocsAssets | undefined {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    return { css: readFileSync(join(dir, "swagger-ui.css"), "utf8"), js: readFileSync(join(dir, "swagger-ui-bundle.js"), "utf8") };
  } catch {
    return undefined;
  }
}

/** Migrates and prepares the database once, in the primary process, before anyone serves. */
export async function prepare(config: Config) {
  const { deps, database } = openNodeDeps(config);
  migrateSqlite(database);
  const prepared = await prepareInstallation(deps, { seedDemo: config.SEED_DEMO, generateAdminToken: true });
  await database.close();
  const base = `http://${config.HOST}:${config.PORT}`;
  // Printed, not logged: the contract says the generated admin token is shown once, on stdout.
  if (prepared.generatedAdminToken) {
    console.log(`\n  Admin token (shown once, stored only as a hash):\n\n    ${prepared.generatedAdminToken}\n`);
  }
  if (prepared.seeded) console.log("  A new database: seeded the demo coalition program (SEED_DEMO=0 to skip).");
  console.log(`  dangol on ${base}  ·  docs ${base}/docs  ·  OpenAPI ${base}/openapi.json  ·  JWKS ${base}/.well-known/jwks.json\n`);
}

/**
 * What Node's HTTP parser refuses before the app sees a request — headers or a URL past 16 KiB,
 * bytes that are not HTTP — gets problem+json like every other refusal, instead of an empty 431
 * or 400. A connection whose answer has begun is only closed.
 */
function answerClientErrors(server: ReturnType<typeof serve>) {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: import("node:stream").Duplex) => {
    // Node's own handler checks the same: once a response has begun, nothing more may be written.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
    if (error.code === "ECONNRESET" || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    const refusal =
      error.code === "HPE_HEADER_OVERFLOW"
        ? new AppError("headers_too_large", "The URL and headers are limited to 16 KiB.")
        : new AppError("malformed_request", "This is not a well-formed HTTP request.");
    const body = JSON.stringify(problemOf(refusal, randomUUID()));
    socket.end(
      `HTTP/1.1 ${refusal.code === "headers_too_large" ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
        `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

function serveHttp(config: Config) {
  const { deps, database } = openNodeDeps(config, { writerThread: true, writerTasks: { module: new URL("./writer-tasks.ts", import.meta.url), context: { config } } });
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
    deps.logger.info("listening", { host: info.address, port: info.port, pid: process.pid });
  });
  answerClientErrors(server);
  const jobs = scheduleJobs(deps, config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    for (const timer of jobs) clearInterval(timer);
    deps.logger.info("shutting down", { signal, pid: process.pid });
    // Stop accepting, let in-flight requests (and work they left to run after) finish, then close the database file cleanly.
    server.close(() => {
      void deps.background
        .idle()
        .then(() => database.close())
        .then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

// In a cluster one worker runs the scheduled jobs; the primary hands the role on if it dies.
const JOBS_ROLE_ENV = "DANGOL_RUNS_JOBS";

/** A scheduled job on an interval, in one process only; a run still going skips the next tick. */
function scheduleJob(deps: Deps, name: string, seconds: number, run: () => Promise<object>) {
  if (seconds === 0 || (cluster.isWorker && process.env[JOBS_ROLE_ENV] !== "1")) return undefined;
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      deps.logger.info(name, { pid: process.pid, ...(await run()) });
    } catch (error) {
      deps.logger.error(`${name} failed`, { error: describeError(error) });
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref();
  return timer;
}

/** The points jobs every few minutes; the recompute (scores, models, segments) daily by default. */
function scheduleJobs(deps: Deps, config: Config) {
  return [
    scheduleJob(deps, "points jobs", config.POINTS_JOB_INTERVAL_SECONDS, () => move(deps, "runPointsJobs", {})),
    scheduleJob(deps, "recompute", config.RECOMPUTE_INTERVAL_SECONDS, async () => recomputeLogFields(await recompute(deps))),
  ];
}

async function main() {
  const config = parseConfig(process.env);
  if (config.CLUSTER_WORKERS > 1 && cluster.isPrimary) {
    await prepare(config);
    let stopping = false;
    const jobsWorkers = new Set<number>();
    const fork = (runsJobs: boolean) => {
      const worker = cluster.fork({ [JOBS_ROLE_ENV]: runsJobs ? "1" : "0" });
      if (runsJobs) jobsWorkers.add(worker.id);
    };
    for (let i = 0; i < config.CLUSTER_WORKERS; i++) fork(i === 0);
    cluster.on("exit", (worker, code) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      console.error(`worker ${worker.process.pid} exited with ${code}; starting another`);
      fork(jobsWorkers.delete(worker.id));
    });
    const stop = () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    return;
  }
  if (cluster.isPrimary) await prepare(config);
  serveHttp(config);
}

// Run only as the entry (npm start, or a cluster worker), not when the CLI imports openNodeDeps.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
