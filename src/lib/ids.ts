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
} as const;

export type IdKind = keyof typeof idPrefixes;

export type RandomBytes = (length: number) => Uint8Array<ArrayBuffer>;

export const cryptoRandomBytes: RandomBytes = (length) =>
  crypto.getRandomValues(new Uint8Array(length));

export function newId(kind: IdKind, nowMs: number, random: RandomBytes = cryptoRandomBytes): string {
  let time = "";
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rest = "";
  for (const byte of random(16)) rest += alphabet[byte % 32];
  return `${idPrefixes[kind]}_${time}${rest}`;
}
