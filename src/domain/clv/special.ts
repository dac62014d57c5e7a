/**
 * Special functions the customer-lifetime-value models need: log-gamma and log-beta.
 * Pure maths on numbers, no dependencies.
 */

/**
 * Lanczos approximation with g = 7 and nine coefficients (Godfrey's set, as in Press et al.,
 * "Numerical Recipes", 3rd ed., §6.1): relative error of Γ below 2e-15 for Re(x) ≥ 0.5.
 */
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln|Γ(x)|, accurate to about 1e-14 (absolute near the zeros at 1 and 2, relative elsewhere).
 * Below 0.5 it uses the reflection formula Γ(x)Γ(1−x) = π / sin(πx); it is +Infinity at the poles
 * 0, −1, −2, …
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
    // sin(πx) loses accuracy for large |x|; reduce x modulo 2 first, where sin's period is exact.
    const sinPiX = Math.sin(Math.PI * (x - 2 * Math.floor(x / 2)));
    return Math.log(Math.PI / Math.abs(sinPiX)) - logGamma(1 - x);
  }
  const shifted = x - 1;
  let series = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) {
    series += (LANCZOS_COEFFICIENTS[i] ?? 0) / (shifted + i);
  }
  const base = shifted + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (shifted + 0.5) * Math.log(base) - base + Math.log(series);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0. */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(eᵘ + eᵛ) without overflow: the larger exponent is factored out first. */
export function logSumExp(u: number, v: number): number {
  if (u === Number.NEGATIVE_INFINITY) return v;
  if (v === Number.NEGATIVE_INFINITY) return u;
  const larger = Math.max(u, v);
  return larger + Math.log1p(Math.exp(Math.min(u, v) - larger));
}
