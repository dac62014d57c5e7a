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
