/**
 * Customer lifetime value over a finite horizon, and the lifecycle stage a member is in.
 *
 * CLV combines the two models as Fader, Hardie & Lee (2005, "RFM and CLV", JMR) do, but over a
 * discrete, discounted horizon instead of their continuous infinite one: purchases expected from
 * BG/NBD in each period, times the spend per purchase expected from Gamma-Gamma (the two are
 * assumed independent), times the margin, discounted to today.
 */
import { expectedPurchasesIfAlive, probabilityAlive, type BgNbdCustomer, type BgNbdParams } from "./bgnbd.ts";
import { expectedAverageSpend, type GammaGammaParams } from "./gamma-gamma.ts";

/** Average days in a calendar month (365.25 / 12). */
export const DAYS_PER_MONTH = 365.25 / 12;
/** Average weeks in a calendar month, the period length for monthly CLV on a model fitted in weeks. */
export const WEEKS_PER_MONTH = DAYS_PER_MONTH / 7;

export interface ClvOptions {
  /** Periods in the horizon, e.g. 12 for a year of months. */
  periods: number;
  /** Length of one period in the BG/NBD model's time unit, e.g. WEEKS_PER_MONTH. */
  periodLength: number;
  /** Discount rate per period, e.g. 0.01 for 1% a month; 0 for no discounting. */
  discountRatePerPeriod: number;
  /** Share of spend kept as profit; default 1, i.e. CLV in revenue. */
  margin?: number;
}

/** A customer's calibration history plus mean repeat spend m_x (0 when x = 0). */
export interface ClvCustomer extends BgNbdCustomer {
  mx: number;
}

export interface ClvResult {
  /** Discounted value over the horizon, in the money unit of m_x. */
  clv: number;
  /** Undiscounted purchases expected over the whole horizon. */
  expectedPurchases: number;
  /** Expected value of each future purchase (Gamma-Gamma). */
  expectedAverageSpend: number;
  probabilityAlive: number;
}

/**
 * CLV = margin · E[M] · Σₖ₌₁ⁿ (E[Y(kL)] − E[Y((k−1)L)]) / (1 + d)ᵏ, where E[Y(t)] is the BG/NBD
 * conditional expectation (FHL 2005 eq. 10), L the period length, d the discount rate per period and
 * E[M] the Gamma-Gamma expected spend. Costs one ₂F₁ per period.
 */
export function customerLifetimeValue(
  bgNbd: BgNbdParams,
  gammaGamma: GammaGammaParams,
  customer: ClvCustomer,
  options: ClvOptions,
): ClvResult {
  const { margin = 1 } = options;
  const spend = expectedAverageSpend(gammaGamma, customer.x, customer.mx);
  const pAlive = probabilityAlive(bgNbd, customer);
  const ifAlive = horizonPurchasesIfAlive(bgNbd, customer.x, customer.T, options);
  return {
    clv: margin * spend * ifAlive.discounted * pAlive,
    expectedPurchases: ifAlive.total * pAlive,
    expectedAverageSpend: spend,
    probabilityAlive: pAlive,
  };
}

/**
 * Purchases over the horizon by a customer with x repeat purchases and age T, if still alive: in
 * total, and discounted period by period. E[Y(t) | x, t_x, T] is this times P(alive), and only
 * P(alive) depends on t_x — so scoring a whole base needs these ₂F₁s once per distinct (x, T), not
 * per distinct history.
 */
export function horizonPurchasesIfAlive(
  bgNbd: BgNbdParams,
  x: number,
  T: number,
  options: Omit<ClvOptions, "margin">,
): { total: number; discounted: number } {
  const { periods, periodLength, discountRatePerPeriod } = options;
  if (!(Number.isInteger(periods) && periods >= 0 && periodLength > 0 && discountRatePerPeriod > -1)) {
    throw new RangeError("CLV needs a whole number of periods, a positive period length and a discount rate > −1");
  }
  let discounted = 0;
  let before = 0;
  for (let k = 1; k <= periods; k++) {
    const cumulative = expectedPurchasesIfAlive(bgNbd, x, T, k * periodLength);
    discounted += (cumulative - before) / (1 + discountRatePerPeriod) ** k;
    before = cumulative;
  }
  return { total: before, discounted };
}

/** Where a member is in their relationship with the program. */
export type LifecycleStage = "new" | "active" | "vip" | "at_risk" | "dormant" | "reactivated";

export interface LifecycleInput {
  daysSinceEnrolment: number;
  /** Null when the member has never purchased. */
  daysSinceLastPurchase: number | null;
  /** BG/NBD P(alive), 0–1. */
  probabilityAlive: number;
  /** The member's CLV percentile in the program, 0–100 (100 = most valuable); omit if unknown. */
  clvPercentile?: number;
  /** The member is in the program's top-N by CLV, however N was chosen. */
  isTopClv?: boolean;
  /** The latest purchase came after a gap without purchases of at least `dormantAfterDays`. */
  purchasedAfterDormantGap: boolean;
}

export interface LifecycleThresholds {
  /** A member is new for this many days after enrolment: default 30. */
  newForDays: number;
  /** Dormant after this many days without a purchase (since enrolment if none): default 180. */
  dormantAfterDays: number;
  /** A comeback purchase keeps the member "reactivated" for this many days: default 30. */
  reactivatedForDays: number;
  /** Dormant below this P(alive): default 0.1. */
  dormantBelowProbabilityAlive: number;
  /** At risk below this P(alive): default 0.5. */
  atRiskBelowProbabilityAlive: number;
  /** VIP from this CLV percentile up: default 90, i.e. the top 10%. */
  vipFromClvPercentile: number;
}

/** The thresholds {@link lifecycleStage} uses for any the program does not set. */
export const defaultLifecycleThresholds: Readonly<LifecycleThresholds> = {
  newForDays: 30,
  dormantAfterDays: 180,
  reactivatedForDays: 30,
  dormantBelowProbabilityAlive: 0.1,
  atRiskBelowProbabilityAlive: 0.5,
  vipFromClvPercentile: 90,
};

/**
 * The member's lifecycle stage: the first rule that matches, top to bottom.
 *
 * | # | stage         | when                                                                    |
 * |---|---------------|-------------------------------------------------------------------------|
 * | 1 | `reactivated` | bought after a dormant gap, ≤ `reactivatedForDays` ago                  |
 * | 2 | `dormant`     | P(alive) < `dormantBelowProbabilityAlive`, or ≥ `dormantAfterDays` idle |
 * | 3 | `new`         | enrolled ≤ `newForDays` ago                                             |
 * | 4 | `at_risk`     | P(alive) < `atRiskBelowProbabilityAlive`, or never purchased            |
 * | 5 | `vip`         | `isTopClv`, or `clvPercentile` ≥ `vipFromClvPercentile`                 |
 * | 6 | `active`      | otherwise                                                               |
 *
 * "Idle" counts days since the last purchase, or since enrolment for a member who never purchased.
 * At-risk comes before VIP on purpose: a valuable member slipping away is the one to act on.
 */
export function lifecycleStage(
  input: LifecycleInput,
  thresholds: Partial<LifecycleThresholds> = {},
): LifecycleStage {
  const limits = { ...defaultLifecycleThresholds, ...thresholds };
  const { daysSinceEnrolment, daysSinceLastPurchase, probabilityAlive: pAlive } = input;
  const daysIdle = daysSinceLastPurchase ?? daysSinceEnrolment;

  const cameBackRecently = daysSinceLastPurchase !== null && daysSinceLastPurchase <= limits.reactivatedForDays;
  if (input.purchasedAfterDormantGap && cameBackRecently) return "reactivated";
  if (pAlive < limits.dormantBelowProbabilityAlive || daysIdle >= limits.dormantAfterDays) return "dormant";
  if (daysSinceEnrolment <= limits.newForDays) return "new";
  if (pAlive < limits.atRiskBelowProbabilityAlive || daysSinceLastPurchase === null) return "at_risk";
  if (input.isTopClv === true || (input.clvPercentile ?? 0) >= limits.vipFromClvPercentile) return "vip";
  return "active";
}
