/**
 * Ids that say what they are: `mem_01JD…`. 48 bits of milliseconds then 80 random bits, in
 * Crockford base32, so ids sort by creation time (cursor pagination relies on that).
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const idPrefixes = {
  member: "mem",
  card: "crd",
  consent: "cns",
  partner: "prt",
  partnerKey: "pk",
  staff: "stf",
  otp: "otp",
  message: "msg",
  audit: "aud",
  lot: "lot",
  transaction: "txn",
  purchase: "pur",
  tierChange: "tch",
  store: "sto",
  offer: "ofr",
  interaction: "int",
  segment: "seg",
} as const;

export type IdKind = keyof typeof idPrefixes;

export type RandomBytes = (length: number) => Uint8Array<ArrayBuffer>;

export const cryptoRandomBytes: RandomBytes = (length) =>
  crypto.getRandomValues(new Uint8Array(length));

// Ids draw their random bits from a pool refilled 4 KB at a time: a getRandomValues call per id
// was a fiftieth of a purchase's CPU. (Secrets still call cryptoRandomBytes.)
const pool = new Uint8Array(4096);
let poolAt = pool.length;
const pooledRandomBytes: RandomBytes = (length) => {
  if (poolAt + length > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool.slice(poolAt, (poolAt += length));
};

// Within one millisecond, ids from the default source count up from the first one (as ULID's
// monotonic mode does), so "newest first" is exact for rows made in the same millisecond.
let last: { ms: number; digits: number[] } | null = null;

function nextDigits(ms: number, random: RandomBytes): number[] {
  if (random === pooledRandomBytes && last?.ms === ms) {
    const digits = [...last.digits];
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === 31) digits[i--] = 0;
    if (i >= 0) digits[i]! += 1;
    last = { ms, digits };
    return digits;
  }
  const digits = [...random(16)].map((byte) => byte % 32);
  if (random === pooledRandomBytes) last = { ms, digits };
  return digits;
}

export function newId(kind: IdKind, nowMs: number, random: RandomBytes = pooledRandomBytes): string {
  const ms = Math.max(0, Math.floor(nowMs));
  let time = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rest = nextDigits(ms, random).map((d) => alphabet[d]).join("");
  return `${idPrefixes[kind]}_${time}${rest}`;
}
