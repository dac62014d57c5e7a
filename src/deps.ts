/** What the app needs from its runtime. Built by the entry files (and tests), handed to createApp. */
import type { Database } from "../db/database.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./lib/log.ts";
import type { KeyRing } from "./services/keys.ts";

export interface DocsAssets {
  css: string;
  js: string;
}

export interface Deps {
  config: Config;
  database: Database;
  /** UTC epoch milliseconds. Injected so tests can move time. */
  clock: () => number;
  logger: Logger;
  keys: KeyRing;
  /** Swagger UI assets served from the package on Node; on Workers the docs page uses a CDN. */
  docsAssets?: DocsAssets;
}
