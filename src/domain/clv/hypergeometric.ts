/**
 * The Gauss hypergeometric function ₂F₁(a, b; c; z) on 0 ≤ z < 1, which the BG/NBD expectations
 * need (Fader, Hardie & Lee 2005, eqs. 7 and 10).
 *
 * ₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ, with (q)ₙ the rising factorial.
 *
 * Two things make the plain series unusable for BG/NBD parameters: its terms can exceed the range
 * of a double (a, b grow with a customer's purchase count), and near z = 1 its terms decay like
 * n^(a+b−c−1) zⁿ, which takes forever when a + b − c is large. So the sum is kept as
 * sign · exp(logScale) · scaled (log space, rescaled as it grows), and when c − a − b < 0 the
 * Euler transformation (Abramowitz & Stegun 15.3.3)
 *   ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z)
 * swaps in a series whose terms decay like n^(c−a−b−1) zⁿ instead, with the power applied in logs.
 */

/** A real number held as its sign and the log of its magnitude, so it cannot overflow. */
export interface SignedLog {
  /** ln |value|; −Infinity when the value is 0. */
  logAbs: number;
  /** −1, 0 or 1. */
  sign: -1 | 0 | 1;
}

/** Series terms allowed before giving up: a few ms of work, enough for 1 − z down to about 5e-5. */
const MAX_SERIES_TERMS = 1_000_000;
/** Stop once the estimated tail is below this fraction of the sum. */
const TAIL_TOLERANCE = 1e-17;
/** Rescale the running sum by e^−RESCALE_LOG once its magnitude passes e^RESCALE_LOG. */
const RESCALE_LOG = 500;
const RESCALE_THRESHOLD = Math.exp(RESCALE_LOG);

/** ₂F₁(a, b; c; z) for 0 ≤ z < 1 and c not 0, −1, −2, …; overflows to ±Infinity past ~1e308. */
export function hypergeometric2F1(a: number, b: number, c: number, z: number): number {
  const { logAbs, sign } = log2F1Signed(a, b, c, z);
  return sign * Math.exp(logAbs);
}

/** ln ₂F₁(a, b; c; z) for 0 ≤ z < 1; NaN when ₂F₁ is negative (it is positive when a, b, c > 0). */
export function log2F1(a: number, b: number, c: number, z: number): number {
  const { logAbs, sign } = log2F1Signed(a, b, c, z);
  if (sign < 0) return Number.NaN;
  return logAbs;
}

/** ₂F₁(a, b; c; z) for 0 ≤ z < 1 as sign and log-magnitude, usable far beyond a double's range. */
export function log2F1Signed(a: number, b: number, c: number, z: number): SignedLog {
  assertArguments(a, b, c, z);
  if (z === 0 || a === 0 || b === 0) return { logAbs: 0, sign: 1 };
  // A non-positive integer a or b ends the series after finitely many terms: never transform it away.
  const terminates = isNonPositiveInteger(a) || isNonPositiveInteger(b);
  if (!terminates && c - a - b < 0) {
    const transformed = sumSeries(c - a, c - b, c, z);
    return { logAbs: transformed.logAbs + (c - a - b) * Math.log1p(-z), sign: transformed.sign };
  }
  return sumSeries(a, b, c, z);
}

/** Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ, summed with rescaling so that huge terms are fine. */
function sumSeries(a: number, b: number, c: number, z: number): SignedLog {
  // Past this index every factor (a + n), (b + n), (c + n) is positive, so term signs are settled.
  const signsSettledAfter = Math.max(0, -a, -b, -c);
  let term = 1;
  let sum = 1;
  let compensation = 0; // Neumaier summation: the low-order bits lost from `sum`
  let logScale = 0;
  for (let n = 0; n < MAX_SERIES_TERMS; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    if (ratio === 0) return toSignedLog(sum + compensation, logScale); // a or b is a non-positive integer
    term *= ratio;
    const updated = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - updated + term : term - updated + sum;
    sum = updated;
    if (Math.abs(term) > RESCALE_THRESHOLD || Math.abs(sum) > RESCALE_THRESHOLD) {
      term /= RESCALE_THRESHOLD;
      sum /= RESCALE_THRESHOLD;
      compensation /= RESCALE_THRESHOLD;
      logScale += RESCALE_LOG;
    }
    if (n + 1 > signsSettledAfter) {
      // Later ratios tend to z monotonically, so neither they nor z can exceed the larger of the two,
      // and the tail is at most a geometric series with that ratio.
      const boundingRatio = Math.max(Math.abs(ratio), z);
      if (boundingRatio < 1) {
        const tail = (Math.abs(term) * boundingRatio) / (1 - boundingRatio);
        if (tail <= TAIL_TOLERANCE * Math.abs(sum + compensation)) {
          return toSignedLog(sum + compensation, logScale);
        }
      }
    }
  }
  throw new RangeError(
    `₂F₁(${a}, ${b}; ${c}; ${z}) did not converge in ${MAX_SERIES_TERMS} terms: z is too close to 1`,
  );
}

function toSignedLog(scaled: number, logScale: number): SignedLog {
  if (scaled === 0) return { logAbs: Number.NEGATIVE_INFINITY, sign: 0 };
  return { logAbs: Math.log(Math.abs(scaled)) + logScale, sign: scaled > 0 ? 1 : -1 };
}

function isNonPositiveInteger(value: number): boolean {
  return value <= 0 && Number.isInteger(value);
}

function assertArguments(a: number, b: number, c: number, z: number): void {
  if (![a, b, c, z].every(Number.isFinite)) throw new RangeError("₂F₁ needs finite arguments");
  if (!(z >= 0 && z < 1)) throw new RangeError(`₂F₁ is implemented for 0 ≤ z < 1, got z = ${z}`);
  if (isNonPositiveInteger(c)) {
    const endsFirst = [a, b].some((v) => isNonPositiveInteger(v) && v > c);
    if (!endsFirst) throw new RangeError(`₂F₁ is undefined for c = ${c}`);
  }
}
