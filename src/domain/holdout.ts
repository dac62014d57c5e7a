/**
 * Holdout assignment: which members of a launch are held out as its control group, and which
 * members the program holds out of all marketing. Deterministic — a hash of (promotion, member) —
 * so a rerun of a launch job puts every member in the same arm, with nothing stored to decide it.
 */

export const arms = ["treatment", "control"] as const;
export type Arm = (typeof arms)[number];

const encoder = new TextEncoder();

/**
 * MurmurHash3 x86 32-bit (Austin Appleby, public domain; the reference `MurmurHash3_x86_32`) of
 * the bytes. Well mixed — its finalizer avalanches every input bit — synchronous, and the same
 * everywhere: Python's `mmh3.hash(text, seed, signed=False)` gives the same number, so an analyst
 * can recompute an assignment. murmur3("hello", 0) = 613153351.
 */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const scramble = (k: number) => Math.imul(rotl(Math.imul(k, c1), 15), c2);
  let h = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const k = (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24);
    h ^= scramble(k);
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[blocks + 2] ?? 0) << 16;
    if (rest >= 2) k ^= (bytes[blocks + 1] ?? 0) << 8;
    k ^= bytes[blocks] ?? 0;
    h ^= scramble(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/**
 * A member's point in [0, 1) for one randomization: murmur3 of "scope␟key␟member" (␟ = U+001F,
 * which no id contains, so distinct pairs never hash the same text) divided by 2³². The scope keeps
 * a promotion's assignment and the program-wide one independent even if a key were reused.
 */
export function assignmentPoint(scope: string, key: string, memberId: string): number {
  return murmur3(encoder.encode(`${scope}\u001f${key}\u001f${memberId}`)) / 4294967296;
}

function checkShare(share: number): void {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`a control share is between 0 and 1, got ${share}`);
}

/**
 * The member's arm in a promotion: control when their point is below `controlShare` (0–1). The same
 * member always lands in the same arm of a promotion; arms of different promotions are independent.
 */
export function armOf(promotionId: string, memberId: string, controlShare: number): Arm {
  checkShare(controlShare);
  return assignmentPoint("promotion", promotionId, memberId) < controlShare ? "control" : "treatment";
}

/**
 * Whether the member is in the program-wide control group — the members who receive no marketing
 * at all, so the program can measure what all of its marketing is worth. `share` defaults to 0.
 */
export function inProgramControl(programSalt: string, memberId: string, share = 0): boolean {
  checkShare(share);
  return assignmentPoint("program", programSalt, memberId) < share;
}
