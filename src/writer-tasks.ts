/**
 * The writer thread's entry (db/sqlite-writer.ts loads it on the Node server): the app's
 * dependencies over the writer's own connection, running the movements posted to it
 * (src/services/movements.ts). The main thread keeps HTTP, authentication, validation and the
 * Idempotency-Key's claim and replay.
 */
import type { StartWriterTasks } from "../db/writer-protocol.ts";
import type { Config } from "./config.ts";
import { createDeps } from "./deps.ts";
import { moveHere } from "./services/movements.ts";

export const startWriterTasks: StartWriterTasks = (database, context) => {
  const deps = createDeps({ config: (context as { config: Config }).config, database });
  return (name, args) => moveHere(deps, name, args);
};
