/**
 * What a refund undoes: earned points clawed back and redeemed points restored, pro rata to the
 * amount refunded. Computed on cumulative totals so that several partial refunds add up to
 * exactly what a single full refund (a void) would undo — no rounding drift.
 */
export interface RefundableState {
  amountMinor: number;
  earnedPoints: number;
  redeemedPoints: number;
  refundedMinor: number;
  clawedPoints: number;
  restoredPoints: number;
}

export interface RefundEffect {
  refundMinor: number;
  clawPoints: number;
  restorePoints: number;
}

export function refundEffect(state: RefundableState, refundMinor: number): RefundEffect {
  const refundedAfter = state.refundedMinor + refundMinor;
  const share = (points: number) =>
    state.amountMinor === 0 ? points : Number((BigInt(points) * BigInt(refundedAfter)) / BigInt(state.amountMinor));
  return {
    refundMinor,
    clawPoints: share(state.earnedPoints) - state.clawedPoints,
    restorePoints: share(state.redeemedPoints) - state.restoredPoints,
  };
}

export interface PurchasedLine {
  sku: string;
  amountMinor: number;
  quantity: number;
}

/**
 * The amount returned for `quantity` more units of a line of which `refundedBefore` units were
 * already refunded. Cumulative like the points above, so refunding every unit, in any number of
 * steps, returns exactly the line's amount.
 */
export function itemRefundMinor(line: PurchasedLine, refundedBefore: number, quantity: number): number {
  const upTo = (units: number) => Number((BigInt(line.amountMinor) * BigInt(units)) / BigInt(line.quantity));
  return upTo(refundedBefore + quantity) - upTo(refundedBefore);
}

/**
 * The money to hand back for a refund of `refundMinor`: the cash the customer paid (after offers
 * and points), pro rata to the amount refunded — the discount's share stays with the offer and the
 * points' share goes back as points. Cumulative like the points, so all the refunds of a purchase
 * together hand back exactly what was paid.
 */
export function cashRefundMinor(purchase: { amountMinor: number; payableMinor: number; refundedMinor: number }, refundMinor: number): number {
  const upTo = (refunded: number) =>
    purchase.amountMinor === 0 ? 0 : Number((BigInt(purchase.payableMinor) * BigInt(refunded)) / BigInt(purchase.amountMinor));
  return upTo(purchase.refundedMinor + refundMinor) - upTo(purchase.refundedMinor);
}
