/**
 * Every verb that moves points or money, registered once and run through one dispatch: on the
 * Node server's writer thread, beside the connection that commits it (its reads stay warm there;
 * the main thread's page cache is emptied by every commit the writer makes), and in place on D1,
 * in tests and in tools. A new money verb is one more entry here, never a new path.
 */
import type { Deps } from "../deps.ts";
import type { Principal } from "../domain/principal.ts";
import { AppError, type ErrorCode } from "../errors.ts";
import type { Claim } from "../store/idempotency.ts";
import { adjustPoints } from "./points/points.ts";
import { runPointsJobs } from "./points/points-jobs.ts";
import type { PurchaseInput } from "./purchases/plan.ts";
import { recordPurchase } from "./purchases/record.ts";
import { refundPurchase } from "./purchases/refund.ts";

/** A movement made under an Idempotency-Key carries its claim: the answer is stored in the movement's own unit. */
interface Keyed {
  actor: Principal;
  claim: Claim | null;
}

const movements = {
  recordPurchase: (deps: Deps, a: Keyed & { input: PurchaseInput }) => recordPurchase(deps, a.actor, a.input, a.claim),
  refundPurchase: (deps: Deps, a: Keyed & { purchaseId: string; request: Parameters<typeof refundPurchase>[3] }) =>
    refundPurchase(deps, a.actor, a.purchaseId, a.request, a.claim),
  adjustPoints: (deps: Deps, a: Keyed & { memberId: string; input: { points: number; reason: string } }) => adjustPoints(deps, a.actor, a.memberId, a.input, a.claim),
  runPointsJobs: (deps: Deps, _: Record<string, never>) => runPointsJobs(deps),
};

export type MovementName = keyof typeof movements;
export type MovementArgs<N extends MovementName> = Parameters<(typeof movements)[N]>[1];
export type MovementResult<N extends MovementName> = Awaited<ReturnType<(typeof movements)[N]>>;

/** A refusal crosses the thread as data: an Error loses its own fields when it is posted. */
export type MovementOutcome = { value: unknown } | { refused: { code: ErrorCode; message: string; extras: AppError["extras"] } };

/** Runs a movement where its writes are committed. Refusals arrive as the AppError they were. */
export async function move<N extends MovementName>(deps: Deps, name: N, args: MovementArgs<N>): Promise<MovementResult<N>> {
  if (!deps.writer) return (await movements[name](deps, args as never)) as MovementResult<N>;
  const outcome = (await deps.writer.run(name, args)) as MovementOutcome;
  if ("refused" in outcome) throw new AppError(outcome.refused.code, outcome.refused.message, outcome.refused.extras);
  return outcome.value as MovementResult<N>;
}

/** The writer thread's side of move(): runs the named movement on its own connection. */
export async function moveHere(deps: Deps, name: string, args: unknown): Promise<MovementOutcome> {
  if (!Object.hasOwn(movements, name)) throw new Error(`No writer task ${name}.`);
  try {
    return { value: await movements[name as MovementName](deps, args as never) };
  } catch (error) {
    if (error instanceof AppError) return { refused: { code: error.code, message: error.message, extras: error.extras } };
    throw error;
  }
}
