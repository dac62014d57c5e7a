/** The Luhn (mod 10) check digit, as on payment and loyalty cards (ISO/IEC 7812-1 Annex B). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // Double every second digit counting from the right of the payload (the check digit's neighbour).
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidLuhn(number: string): boolean {
  if (!/^\d{2,}$/.test(number)) return false;
  return luhnCheckDigit(number.slice(0, -1)) === Number(number.slice(-1));
}

/** Card numbers: our 4-digit program prefix, 11 random digits, one Luhn check digit. */
export const CARD_PREFIX = "9410";
export const CARD_NUMBER_LENGTH = 16;

export function cardNumberFrom(randomDigits: string): string {
  const payload = CARD_PREFIX + randomDigits.padStart(11, "0").slice(-11);
  return payload + luhnCheckDigit(payload);
}
