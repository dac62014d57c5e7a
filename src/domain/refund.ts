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

export interface CategoryLine {
  category: string;
  amountMinor: number;
  /** With the sku and quantity, units refunded by item take their own line out of the split. */
  sku?: string;
  quantity?: number;
}

/**
 * What is left of a purchase's spend in each of its categories: `leftMinor` (the sale after offers,
 * net of refunds) split in proportion to what is left of each category's lines. A refund by item
 * takes its line out first; a refund by amount comes off every line pro rata. The split is a
 * function of the purchase's totals, not of the order of its refunds, so a profile that moves each
 * category by after − before ends where a scan of the purchases ends. The rounding remainder goes
 * to the category with the most left (the first of them on a tie).
 */
export function spendByCategory(leftMinor: number, lines: readonly CategoryLine[], refundedUnits: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const weigh = (left: (line: CategoryLine) => number) => {
    const weights = new Map<string, number>();
    for (const line of lines) weights.set(line.category, (weights.get(line.category) ?? 0) + left(line));
    return weights;
  };
  const remaining = weigh((line) => {
    const units = line.sku === undefined ? 0 : (refundedUnits.get(line.sku) ?? 0);
    return units === 0 ? line.amountMinor : line.amountMinor - itemRefundMinor({ sku: line.sku!, amountMinor: line.amountMinor, quantity: line.quantity ?? 1 }, 0, units);
  });
  const total = (w: Map<string, number>) => [...w.values()].reduce((a, b) => a + b, 0);
  // Every unit refunded by item but money left (an offer's share not yet reversed): split as bought.
  const weights = total(remaining) > 0 ? remaining : weigh((line) => line.amountMinor);
  const weightTotal = total(weights);
  const shares = new Map<string, number>();
  let largest: string | undefined;
  for (const [category, weight] of weights) {
    shares.set(category, weightTotal === 0 ? 0 : Number((BigInt(leftMinor) * BigInt(weight)) / BigInt(weightTotal)));
    if (largest === undefined || weight > weights.get(largest)!) largest = category;
  }
  if (largest !== undefined) shares.set(largest, shares.get(largest)! + leftMinor - total(shares));
  return shares;
}
