/**
 * How concentrated revenue is across customers: top-share ("the top 20% bring X%"), the share of
 * customers needed to reach 80% of revenue, the Lorenz curve and the Gini coefficient. Inputs are
 * per-customer revenues (minor units or plain numbers), never negative; order does not matter.
 */

export interface TopShare {
  /** The share of customers asked for, e.g. 0.2. */
  customerShare: number;
  /** How many customers that is: ⌊customerShare · n⌋. */
  customers: number;
  /** The part of total revenue those biggest customers bring, 0..1. */
  revenueShare: number;
}

export interface ParetoSummary {
  customers: number;
  totalRevenue: number;
  /** Top 1%, 5%, 10%, 20% and 50% of customers and the revenue share each brings. */
  top: TopShare[];
  /** The fewest biggest customers whose revenue reaches 80% of the total, as a count and a share. */
  customersFor80PctRevenue: number;
  customerShareFor80PctRevenue: number;
  gini: number;
}

export interface LorenzPoint {
  customerShare: number;
  revenueShare: number;
}

export const PARETO_TOP_SHARES = [0.01, 0.05, 0.1, 0.2, 0.5] as const;

/** Revenues sorted ascending in a typed array, after checking none is negative or non-finite. */
function sortedAscending(revenues: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(revenues);
  for (let i = 0; i < sorted.length; i++) {
    const value = sorted[i]!;
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`revenue #${i} must be a finite number ≥ 0, got ${value}`);
  }
  return sorted.sort(); // typed-array sort is numeric
}

const sumOf = (values: Float64Array): number => values.reduce((a, b) => a + b, 0);

/**
 * How many customers "the top `share`" is: ⌊share · n⌋, so the top 20% of 2,357 customers is 471.
 * The 1e-9 absorbs binary-fraction error (0.29 · 100 = 28.999… would otherwise give 28).
 */
export function topCount(share: number, customers: number): number {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`share must be in [0, 1], got ${share}`);
  return Math.floor(share * customers + 1e-9);
}

/** The revenue share of the biggest ⌊share · n⌋ customers of an ascending array (0 when total is 0). */
function topShareOfSorted(sorted: Float64Array, total: number, share: number): TopShare {
  const customers = topCount(share, sorted.length);
  let revenue = 0;
  for (let i = sorted.length - customers; i < sorted.length; i++) revenue += sorted[i]!;
  return { customerShare: share, customers, revenueShare: total > 0 ? revenue / total : 0 };
}

/** The fewest biggest customers of an ascending array whose revenue reaches `revenueShare` of the total. */
function customersToReachSorted(sorted: Float64Array, total: number, revenueShare: number): number {
  if (total <= 0) return 0;
  // A relative tolerance so an exact integer target is not missed by 0.8 · total rounding up.
  const target = revenueShare * total - total * 1e-12;
  let revenue = 0;
  let customers = 0;
  for (let i = sorted.length - 1; i >= 0 && revenue < target; i--) {
    revenue += sorted[i]!;
    customers++;
  }
  return customers;
}

/**
 * The revenue share of the top `share` of customers, biggest first. "Top 20%" means the
 * ⌊0.2 · n⌋ customers with the most revenue (ties at the cut make no difference to the sum).
 */
export function topRevenueShare(revenues: ArrayLike<number>, share: number): TopShare {
  const sorted = sortedAscending(revenues);
  return topShareOfSorted(sorted, sumOf(sorted), share);
}

/** The fewest customers (biggest first) whose revenue reaches `revenueShare` (0..1] of the total. */
export function customersToReach(revenues: ArrayLike<number>, revenueShare: number): number {
  if (!(revenueShare > 0 && revenueShare <= 1)) throw new RangeError(`revenueShare must be in (0, 1], got ${revenueShare}`);
  const sorted = sortedAscending(revenues);
  return customersToReachSorted(sorted, sumOf(sorted), revenueShare);
}

/**
 * Gini of an ascending array, exact: G = 2·Σ i·x_i / (n·Σx) − (n + 1)/n with i = 1..n.
 * 0 for no customers, one customer, or no revenue (nothing is unequal).
 */
function giniOfSorted(sorted: Float64Array, total: number): number {
  const n = sorted.length;
  if (n <= 1 || total <= 0) return 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) weighted += (i + 1) * sorted[i]!;
  // Clamp float noise: the exact value is in [0, (n − 1)/n].
  return Math.max(0, (2 * weighted) / (n * total) - (n + 1) / n);
}

/** The Gini coefficient of the revenues: 0 when everyone brings the same, (n − 1)/n when one brings all. */
export function gini(revenues: ArrayLike<number>): number {
  const sorted = sortedAscending(revenues);
  return giniOfSorted(sorted, sumOf(sorted));
}

/**
 * The Lorenz curve at `points` + 1 evenly spaced customer shares 0, 1/points, …, 1: customers
 * sorted by revenue ascending (smallest first, the standard orientation), revenueShare = the part
 * of total revenue the first customerShare of them bring. Between whole customers the curve is
 * interpolated linearly, which is exact for the piecewise-linear Lorenz curve, so it also works
 * with fewer customers than points. With no customers or no revenue it is the equality line.
 */
export function lorenzCurve(revenues: ArrayLike<number>, points = 100): LorenzPoint[] {
  if (!Number.isInteger(points) || points < 1) throw new RangeError(`points must be a positive integer, got ${points}`);
  const sorted = sortedAscending(revenues);
  const n = sorted.length;
  const total = sumOf(sorted);
  const curve: LorenzPoint[] = [];
  let customer = 0; // customers fully counted so far
  let cumulative = 0; // their revenue
  for (let j = 0; j <= points; j++) {
    const customerShare = j / points;
    if (n === 0 || total <= 0) {
      curve.push({ customerShare, revenueShare: customerShare });
      continue;
    }
    const position = (j * n) / points; // in customers, from the smallest
    while (customer + 1 <= position) cumulative += sorted[customer++]!;
    const partial = customer < n ? (position - customer) * sorted[customer]! : 0;
    curve.push({ customerShare, revenueShare: j === points ? 1 : Math.min(1, (cumulative + partial) / total) });
  }
  return curve;
}

/** Customers, total revenue, top 1/5/10/20/50% shares, customers needed for 80% of revenue, and Gini. */
export function paretoSummary(revenues: ArrayLike<number>): ParetoSummary {
  const sorted = sortedAscending(revenues);
  const total = sumOf(sorted);
  const n = sorted.length;
  const customersFor80PctRevenue = customersToReachSorted(sorted, total, 0.8);
  return {
    customers: n,
    totalRevenue: total,
    top: PARETO_TOP_SHARES.map((share) => topShareOfSorted(sorted, total, share)),
    customersFor80PctRevenue,
    customerShareFor80PctRevenue: n === 0 ? 0 : customersFor80PctRevenue / n,
    gini: giniOfSorted(sorted, total),
  };
}
