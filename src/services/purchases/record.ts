/**
 * recordPurchase: one call earns and redeems points, as one atomic unit — the purchase row
 * (unique per partner and receipt), its ledger transaction, the lots drawn and created, the
 * balance, a tier upgrade, and the Idempotency-Key's stored response.
 */
import { isConstraintViolation } from "../../../db/database.ts";
import { frozenClock, type Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Claim } from "../../store/idempotency.ts";
import { balanceView, commitMovement, withRetries } from "../../store/ledger.ts";
import type { Principal } from "../../domain/principal.ts";
import { findMemberRow } from "../members/members.ts";
import { cardTokenUsed, duplicateReceipt, planPurchase, preparePurchase, purchaseByReceipt, type PurchaseInput } from "./plan.ts";

export async function recordPurchase(deps: Deps, actor: Principal, input: PurchaseInput, claim: Claim | null) {
  const prep = await preparePurchase(deps, input);
  let attempts = 0;
  const attempt = async () => {
    // A retry reads the member again: another purchase may just have changed the tier.
    const member = attempts++ === 0 ? prep.member : await findMemberRow(deps, prep.member.id);
    const plan = await planPurchase(frozenClock(deps), actor, input, prep, member);
    try {
      await commitMovement(deps, { statements: plan.statements(), claim, status: 201, response: plan.response, memberId: plan.memberId });
    } catch (error) {
      if (isConstraintViolation(error, "UNIQUE", "purchases.partner_id")) {
        throw duplicateReceipt((await purchaseByReceipt(deps, input.partnerId, input.receiptId))?.id ?? "unknown");
      }
      if (isConstraintViolation(error, "UNIQUE", "purchases.card_token_jti")) throw cardTokenUsed();
      // A count budget refuses a use only when no unit is left: a named offer is then used up,
      // and saying so at once spares the retries (an automatic choice is re-planned without it).
      if (input.offerIds && plan.counted.length === 1 && isConstraintViolation(error, "CHECK", "offers_budget_count")) {
        const offerId = plan.counted[0]!;
        throw new AppError("offer_exhausted", "The offer's budget is used up.", { offerId, errors: [{ field: `offerIds.${input.offerIds.indexOf(offerId)}`, message: "The offer's budget is used up." }] });
      }
      throw error;
    }
    return plan.response;
  };
  const response = await withRetries(attempt);
  // With a key, the client gets the stored body, whose balance was read inside the unit.
  return { ...response, balance: claim ? null : await balanceView(deps, prep.member.id) };
}
