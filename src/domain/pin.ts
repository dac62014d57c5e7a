/**
 * The member's PIN: what a till may ask for instead of the QR card before it spends points on a
 * card number typed by hand. 4–6 digits, so it is worth only as much as the attempt limit
 * around it; these rules refuse the PINs anyone would try first.
 */

export const PIN_PATTERN = /^\d{4,6}$/;
/** Consecutive wrong PINs that lock it, until the member sets a new one. */
export const PIN_MAX_ATTEMPTS = 5;

// Of the twenty PINs people choose most (DataGenetics' 2012 study of 3.4 million 4-digit PINs),
// those the rules below do not already catch — 1004 reads "천사" (angel) in Korean.
const COMMON = new Set(["1004", "2000", "2001", "1122", "112233"]);

/** Every digit one up (or one down) from the one before, wrapping 9 → 0: 1234, 7890, 654321. */
function isRun(pin: string): boolean {
  const steps = new Set<number>();
  for (let i = 1; i < pin.length; i++) steps.add((Number(pin[i]) - Number(pin[i - 1]) + 10) % 10);
  return steps.size === 1 && (steps.has(1) || steps.has(9));
}

/** A shorter block said again and again: 1111, 1212, 696969, 123123. */
function isRepeated(pin: string): boolean {
  for (let period = 1; period <= pin.length / 2; period++) {
    if (pin.length % period === 0 && pin.slice(0, period).repeat(pin.length / period) === pin) return true;
  }
  return false;
}

/** Why a PIN of the right shape would be guessed too easily, or null when it will do. */
export function weakPinReason(pin: string): string | null {
  if (isRepeated(pin)) return "A PIN may not repeat the same digits (like 0000 or 1212)";
  if (isRun(pin)) return "A PIN may not be a run of digits (like 1234 or 9876)";
  if (COMMON.has(pin)) return "This PIN is among the first anyone would try";
  return null;
}
