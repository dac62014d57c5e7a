/** quotePurchase: what a purchase would give, recording nothing. */
import type { Deps } from "../../deps.ts";
import type { Principal } from "../../domain/principal.ts";
import { planPurchase, preparePurchase, type PurchaseInput } from "./plan.ts";

/** What a purchase would give, without recording anything (the card token stays unused). */
export async function quotePurchase(deps: Deps, actor: Principal, input: PurchaseInput) {
  const prep = await preparePurchase(deps, input);
  const { response, balance } = await planPurchase(deps, actor, input, prep, prep.member);
  const { program } = prep;
  const { purchaseId: _none, ...quote } = response;
  // Points the member could still put towards this purchase, within the program's limits.
  const payableBeforePoints = input.amountMinor - response.discountMinor;
  const pointsCost = response.offers.reduce((n, o) => n + o.pointsCost, 0);
  const usable = Math.max(
    0,
    Math.min(balance.available - pointsCost, Math.floor(payableBeforePoints / program.pointValueMinor), program.redemption.maxPoints ?? Number.MAX_SAFE_INTEGER),
  );
  return { ...quote, pointsUsable: usable < (program.redemption.minPoints ?? 0) ? 0 : usable, balance: { available: balance.available, pending: balance.pending } };
}
