/**
 * The normal and Student-t distributions the uplift intervals need: their CDFs (through the
 * regularized incomplete gamma and beta functions) and their quantiles. Pure maths, no dependencies.
 */
import { logBeta, logGamma } from "./clv/special.ts";

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 500;

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): 1 − the series for P when x < a + 1
 * (where Q is not small), else Legendre's continued fraction for Q itself, so small tails keep
 * their digits (Press et al., "Numerical Recipes", 3rd ed., §6.2, gser and gcf).
 */
function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  return continuedFractionGammaQ(a, x, logPrefix);
}

/** Q(a, x) = 1 − P(a, x) by the continued fraction, modified Lentz (Numerical Recipes §6.2, gcf). */
function continuedFractionGammaQ(a: number, x: number, logPrefix: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(logPrefix) * h;
}

/**
 * Φ(z), the standard normal CDF, to about 1e-15 relative even in the lower tail:
 * Φ(z) = ½·Q(½, z²/2) for z < 0 and 1 − ½·Q(½, z²/2) for z ≥ 0 (erfc(x) = Q(½, x²)).
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const halfTail = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z < 0 ? halfTail : 1 - halfTail;
}

// Acklam's rational approximation to Φ⁻¹ (P. J. Acklam, "An algorithm for computing the inverse
// normal cumulative distribution function", 2003): relative error below 1.15e-9, then polished below.
const ACKLAM_A = [-39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239];
const ACKLAM_B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const ACKLAM_C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW = 0.02425;

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const c of coefficients) value = value * x + c;
  return value;
}

/**
 * Φ⁻¹(p), the standard normal quantile, to about 1e-15: Acklam's approximation and one Halley step
 * on Φ(z) − p (the refinement Acklam gives). Φ⁻¹(0.975) = 1.959963984540054.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  let z: number;
  if (p < ACKLAM_LOW || p > 1 - ACKLAM_LOW) {
    const q = Math.sqrt(-2 * Math.log(Math.min(p, 1 - p)));
    z = polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1);
    if (p > 0.5) z = -z;
  } else {
    const q = p - 0.5;
    const r = q * q;
    z = (polynomial(ACKLAM_A, r) * q) / (polynomial(ACKLAM_B, r) * r + 1);
  }
  // Halley: e = Φ(z) − p, u = e·√(2π)·e^{z²/2}, z ← z − u/(1 + z·u/2). Work in the nearer tail
  // so that Φ's rounding near 1 does not swamp e.
  const e = p < 0.5 ? normalCdf(z) - p : 1 - p - normalCdf(-z);
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((z * z) / 2);
  return z - u / (1 + (z * u) / 2);
}

/**
 * Regularized incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes §6.4, betai
 * and betacf, modified Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction
 * converges slowly. `oneMinusX` is 1 − x, passed in when the caller has it more exactly than 1 − x.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number, oneMinusX = 1 - x): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log(oneMinusX) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(oneMinusX, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/** Beyond this many degrees of freedom the t and normal quantiles agree to better than 1e-8. */
const NORMAL_LIMIT_DF = 1e8;

/**
 * The Student-t CDF with ν degrees of freedom (ν > 0, real): for t ≥ 0,
 * F(t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) (Abramowitz & Stegun 26.7.1 with 26.5.27).
 */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (df >= NORMAL_LIMIT_DF) return normalCdf(t);
  const t2 = t * t;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
  return t >= 0 ? 1 - tail : tail;
}

/** The upper tail 1 − F(t) for t ≥ 0, kept separate so quantiles near 1 do not lose digits. */
function studentTUpperTail(t: number, df: number): number {
  if (df >= NORMAL_LIMIT_DF) return normalCdf(-t);
  const t2 = t * t;
  return 0.5 * regularizedIncompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

function studentTDensity(t: number, df: number): number {
  return Math.exp(
    logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((t * t) / df),
  );
}

/**
 * The Student-t quantile t_p(ν) for real ν > 0, to about 1e-12 relative: exact closed forms at
 * ν = 1 and 2, the normal quantile beyond 1e8, otherwise Newton's method on the exact CDF started
 * from the Cornish–Fisher expansion about the normal quantile (Abramowitz & Stegun 26.7.5), kept
 * inside a bisection bracket so a poor start (small ν, far tails) cannot diverge.
 * t_0.975(1) = 12.7062, t_0.975(5) = 2.5706, t_0.975(30) = 2.0423, t_0.975(∞) = 1.95996.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1) || !(df > 0)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (p === 0.5) return 0;
  if (df >= NORMAL_LIMIT_DF) return normalQuantile(p);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));

  const tail = 1 - p;
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  let t = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;

  // Bracket [lo, hi] with upperTail(lo) ≥ tail ≥ upperTail(hi); the t quantile is at least z.
  let lo = 0;
  let hi = Math.max(t, z, 1);
  while (studentTUpperTail(hi, df) > tail) {
    lo = hi;
    hi *= 2;
  }
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 100; i++) {
    const excess = studentTUpperTail(t, df) - tail; // decreasing in t
    if (excess > 0) lo = t;
    else hi = t;
    let next = t + excess / studentTDensity(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-14 * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}
