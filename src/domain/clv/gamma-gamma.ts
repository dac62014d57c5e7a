/**
 * The Gamma-Gamma model of spend per purchase (Colombo & Jiang 1999, "A stochastic RFM model",
 * Journal of Interactive Marketing; as used by Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
 * Curves for Customer Base Analysis", JMR 42(4), and Fader & Hardie's note "The Gamma-Gamma Model of
 * Monetary Value", 2013). Each purchase's value is Gamma(p, ν); across customers ν ~ Gamma(q, γ).
 * Spend is assumed independent of purchase frequency, and the model is fitted on repeat purchases
 * only, of customers with at least one (x > 0). Money is in whatever unit m_x is given in; γ is too.
 */
import { minimize, type MinimizeOptions } from "./optimize.ts";
import { logGamma } from "./special.ts";

export interface GammaGammaParams {
  /** Shape of the per-purchase value distribution. */
  p: number;
  /** Shape of the distribution of ν across customers; the population mean spend needs q > 1. */
  q: number;
  /** Scale of the distribution of ν across customers, in money units. */
  gamma: number;
}

export interface GammaGammaFit extends GammaGammaParams {
  /** Total log-likelihood of the fitted customers at the returned parameters. */
  logLikelihood: number;
  /** Nelder–Mead iterations the fit took. */
  iterations: number;
  /** False when the optimiser's iteration budget ran out before it converged. */
  converged: boolean;
}

/** A customer's repeat-purchase count and the mean value of those purchases. */
export interface SpendHistory {
  /** Repeat purchases (x > 0 to be fitted). */
  x: number;
  /** Mean value of the x repeat purchases, > 0. */
  mx: number;
}

/**
 * ln f(m_x | p, q, γ, x), the density of a customer's mean spend (Colombo & Jiang 1999; Fader & Hardie 2013):
 *   f = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + m_x x)^(px+q).
 */
export function gammaGammaLogLikelihood(params: GammaGammaParams, customer: SpendHistory): number {
  const { p, q, gamma } = params;
  const { x, mx } = customer;
  const px = p * x;
  return (
    logGamma(px + q) -
    logGamma(px) -
    logGamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(mx) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + mx * x)
  );
}

/** Options for {@link fitGammaGamma}. */
export interface FitGammaGammaOptions {
  /** Starting parameters; by default p = 1, q = 2 and γ = the mean m_x (prior mean = sample mean). */
  start?: GammaGammaParams;
  /** The minimiser's tolerances and budget (defaults: tight, for reproducing published fits). */
  minimize?: MinimizeOptions;
}

/**
 * Maximum-likelihood fit of (p, q, γ) by Nelder–Mead on their logarithms, over the customers with
 * x > 0 (the others carry no spend information and are skipped). Deterministic.
 */
export function fitGammaGamma(customers: Iterable<SpendHistory>, options: FitGammaGammaOptions = {}): GammaGammaFit {
  const repeaters: SpendHistory[] = [];
  for (const customer of customers) {
    if (customer.x <= 0) continue;
    if (!(customer.mx > 0 && Number.isFinite(customer.mx)) || !Number.isInteger(customer.x)) {
      throw new RangeError(`invalid spend history x=${customer.x} m_x=${customer.mx}`);
    }
    repeaters.push(customer);
  }
  if (repeaters.length === 0) throw new RangeError("fitGammaGamma needs a customer with x > 0");

  const meanSpend = repeaters.reduce((s, c) => s + c.mx, 0) / repeaters.length;
  const start = options.start ?? { p: 1, q: 2, gamma: meanSpend };
  const total = (params: GammaGammaParams) =>
    repeaters.reduce((sum, customer) => sum + gammaGammaLogLikelihood(params, customer), 0);
  // Mean per customer, so tolerances mean the same whatever the customer count.
  const objective = (logParams: readonly number[]) => -total(fromLogs(logParams)) / repeaters.length;
  const result = minimize(objective, [start.p, start.q, start.gamma].map(Math.log), options.minimize);
  const params = fromLogs(result.point);
  return { ...params, logLikelihood: total(params), iterations: result.iterations, converged: result.converged };
}

function fromLogs(logParams: readonly number[]): GammaGammaParams {
  const [logP = 0, logQ = 0, logGammaScale = 0] = logParams;
  return { p: Math.exp(logP), q: Math.exp(logQ), gamma: Math.exp(logGammaScale) };
}

/**
 * E[M | p, q, γ, m_x, x], the expected value of this customer's future purchases (Fader & Hardie 2013;
 * Fader, Hardie & Lee 2005): a weighted mean of the population mean γp/(q−1) and the customer's own m_x,
 *   E = (q−1)/(px+q−1) · γp/(q−1) + px/(px+q−1) · m_x = p(γ + m_x x) / (px + q − 1).
 * With x = 0 it is the population mean. Infinite when q ≤ 1 and x = 0.
 */
export function expectedAverageSpend(params: GammaGammaParams, x: number, mx: number): number {
  const { p, q, gamma } = params;
  const spendSum = x > 0 ? mx * x : 0;
  const denominator = p * x + q - 1;
  return denominator > 0 ? (p * (gamma + spendSum)) / denominator : Number.POSITIVE_INFINITY;
}
