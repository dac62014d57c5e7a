/**
 * Operations the Node server runs on its writer thread, beside the connection that commits them.
 * A purchase reads a dozen rows, and the main thread's connection has its page cache emptied by
 * every commit the writer makes, so there each read started cold; the writer's stays warm. The
 * main thread keeps HTTP, authentication, validation and the Idempotency-Key. Where there is no
 * writer thread (Workers, tests, tools) the same operations run in place.
 */
import type { StartWriterTasks } from "../db/writer-protocol.ts";
import type { Config } from "./config.ts";
import { createDeps, type Deps } from "./deps.ts";
import { AppError, type ErrorCode } from "./errors.ts";
import type { Claim } from "./store/idempotency.ts";
import type { Principal } from "./domain/principal.ts";
import type { PurchaseInput } from "./services/purchases/plan.ts";
import { recordPurchase } from "./services/purchases/record.ts";

const tasks = {
  recordPurchase: (deps: Deps, args: { actor: Principal; input: PurchaseInput; claim: Claim | null }) => recordPurchase(deps, args.actor, args.input, args.claim),
};

type Tasks = typeof tasks;
type TaskName = keyof Tasks;
type ResultOf<N extends TaskName> = Awaited<ReturnType<Tasks[N]>>;

/** A refusal crosses the thread as data: an Error loses its own fields when it is posted. */
type Outcome = { value: unknown } | { refused: { code: ErrorCode; message: string; extras: AppError["extras"] } };

/** Runs a task where its writes are committed: on the writer thread if there is one, else here. */
export async function runWhereWritten<N extends TaskName>(deps: Deps, name: N, args: Parameters<Tasks[N]>[1]): Promise<ResultOf<N>> {
  if (!deps.database.runTask) return (await tasks[name](deps, args)) as ResultOf<N>;
  const outcome = (await deps.database.runTask(name, args)) as Outcome;
  if ("refused" in outcome) throw new AppError(outcome.refused.code, outcome.refused.message, outcome.refused.extras);
  return outcome.value as ResultOf<N>;
}

/** The writer thread's side (see db/sqlite-writer.ts): the app's dependencies over its connection. */
export const startWriterTasks: StartWriterTasks = (database, context) => {
  const deps = createDeps({ config: (context as { config: Config }).config, database });
  return async (name: string, args: unknown): Promise<Outcome> => {
    if (!(name in tasks)) throw new Error(`No writer task ${name}.`);
    try {
      return { value: await tasks[name as TaskName](deps, args as Parameters<Tasks[TaskName]>[1]) };
    } catch (error) {
      if (error instanceof AppError) return { refused: { code: error.code, message: error.message, extras: error.extras } };
      throw error;
    }
  };
};
