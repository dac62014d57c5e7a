/**
 * A purchase's decisions that need no database: when it may be dated, what redemption the program
 * allows, and the offers it gets, with the pricing's refusals as the API's errors.
 */
import { AppError, invalidField } from "../errors.ts";
import { DAY_MS } from "../lib/time.ts";
import { OfferRefused, priceOffers, type Offer, type PricingContext } from "./offers.ts";
import type { Program } from "./program.ts";

/** How far back a till may date a purchase (offline tills catching up), and forward (clock skew). */
export const MAX_BACKDATE_MS = 30 * DAY_MS;

export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A refusal of one field, its message also the detail. */
export function invalidInput(field: string, message: string): never {
  throw invalidField(field, message, message);
}

/** When the purchase happened: now, or the time the till gives, at most 30 days back and 5 minutes ahead. */
export function occurredAtOf(now: number, occurredAt: string | undefined): number {
  if (occurredAt === undefined) return now;
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) invalidInput("occurredAt", "Not an ISO-8601 time");
  if (at > now + MAX_CLOCK_SKEW_MS) invalidInput("occurredAt", "In the future");
  if (at < now - MAX_BACKDATE_MS) invalidInput("occurredAt", "More than 30 days ago");
  return at;
}

/** Refuses a redemption the program does not allow, or one worth more than is left to pay. */
export function checkRedemption(program: Program, payableBeforePointsMinor: number, redeem: number) {
  if (redeem === 0) return;
  if (redeem * program.pointValueMinor > payableBeforePointsMinor) {
    invalidInput("redeemPoints", "Points may pay for at most what is left to pay after offers");
  }
  const { minPoints, maxPoints } = program.redemption;
  if (minPoints !== undefined && redeem < minPoints) {
    throw new AppError("redemption_not_allowed", `At least ${minPoints} points must be redeemed at once.`, { minPoints });
  }
  if (maxPoints !== undefined && redeem > maxPoints) {
    throw new AppError("redemption_not_allowed", `At most ${maxPoints} points may be redeemed in one purchase.`, { maxPoints });
  }
}

/** The offers a purchase gets, with the pricing's refusals turned into the API's errors. */
export function priceOrRefuse(offersHere: Offer[], ctx: PricingContext, requested: string[] | undefined) {
  try {
    return priceOffers(offersHere, ctx, requested);
  } catch (error) {
    if (!(error instanceof OfferRefused)) throw error;
    const field = `offerIds.${requested?.indexOf(error.offerId) ?? 0}`;
    const errors = [{ field, message: error.message }];
    if (error.reason === "exhausted") throw new AppError("offer_exhausted", error.message, { offerId: error.offerId, errors });
    if (error.reason === "not_combinable") throw new AppError("offers_not_combinable", error.message, { offerId: error.offerId, errors });
    throw new AppError("offer_not_eligible", error.message, { offerId: error.offerId, errors });
  }
}
