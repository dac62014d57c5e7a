/** What the app needs from its runtime. Built by the entry files (and tests), handed to createApp. */
import type { Database } from "../db/database.ts";
import type { Config } from "./config.ts";
import { createBackground, type Background } from "./lib/background.ts";
import { createLogger, describeError, type Logger } from "./lib/log.ts";
import { createKeyRing, type KeyRing } from "./lib/keys.ts";

export interface DocsAssets {
  css: string;
  js: string;
}

/**
 * Where point movements run when not here (src/services/movements.ts): the Node server's writer
 * thread, posted a movement's name and its arguments (plain data: a principal, an input, a claim).
 */
export interface MovementWriter {
  run(name: string, args: unknown): Promise<unknown>;
}

export interface Deps {
  config: Config;
  database: Database;
  /** UTC epoch milliseconds. Injected so tests can move time. */
  clock: () => number;
  logger: Logger;
  keys: KeyRing;
  /** Work that runs after the response (see lib/background.ts). */
  background: Background;
  /** Swagger UI assets served from the package on Node; on Workers the docs page uses a CDN. */
  docsAssets?: DocsAssets;
  /** Absent on D1, in tests and in tools: movements run in place. */
  writer?: MovementWriter;
}

/** Wires the runtime-independent parts once, for both entries and the tests. */
export function createDeps(input: {
  config: Config;
  database: Database;
  clock?: () => number;
  logWriter?: (line: string) => void;
  docsAssets?: DocsAssets;
  writer?: MovementWriter;
}): Deps {
  const clock = input.clock ?? (() => Date.now());
  const logger = createLogger(input.config.LOG_LEVEL, input.logWriter);
  return {
    config: input.config,
    database: input.database,
    clock,
    logger,
    background: createBackground((error) => logger.error("background task failed", { error: describeError(error) })),
    keys: createKeyRing({ database: input.database, clock, externalPrivateJwk: input.config.SIGNING_KEY }),
    ...(input.docsAssets && { docsAssets: input.docsAssets }),
    ...(input.writer && { writer: input.writer }),
  };
}

/**
 * The same dependencies with the clock stopped: every row one unit writes carries one time, so a
 * purchase and its ledger transaction can never fall either side of a month's end.
 */
export function frozenClock(deps: Deps): Deps {
  const at = deps.clock();
  return { ...deps, clock: () => at };
}
