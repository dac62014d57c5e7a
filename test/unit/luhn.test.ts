import { describe, expect, it } from "vitest";
import { CARD_NUMBER_LENGTH, CARD_PREFIX, cardNumberFrom, isValidLuhn, luhnCheckDigit } from "../../src/domain/luhn.ts";
import { displayNameOf } from "../../src/domain/names.ts";

/** Every number that differs from `number` in exactly one digit. */
function singleDigitChanges(number: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < number.length; i++) {
    for (let d = 0; d <= 9; d++) {
      if (String(d) === number[i]) continue;
      out.push(number.slice(0, i) + d + number.slice(i + 1));
    }
  }
  return out;
}

describe("Luhn check digits", () => {
  const valid = ["79927398713", "4539148803436467", "4111111111111111", "5555555555554444", "378282246310005", "0000000000000000"];

  it.each(valid)("accepts the known-valid number %s", (number) => {
    expect(isValidLuhn(number)).toBe(true);
  });

  it("computes the check digit of the textbook example (7992739871 → 3)", () => {
    expect(luhnCheckDigit("7992739871")).toBe(3);
    expect(luhnCheckDigit("453914880343646")).toBe(7);
  });

  it.each(["79927398713", "4539148803436467"])("rejects every single-digit change of %s", (number) => {
    const changed = singleDigitChanges(number);
    expect(changed).toHaveLength(number.length * 9);
    for (const candidate of changed) expect(isValidLuhn(candidate), candidate).toBe(false);
  });

  it("rejects wrong check digits, non-digits and too-short input", () => {
    expect(isValidLuhn("79927398710")).toBe(false);
    expect(isValidLuhn("79927398714")).toBe(false);
    expect(isValidLuhn("4539 1488 0343 6467")).toBe(false); // callers strip separators first
    expect(isValidLuhn("4539-1488-0343-6467")).toBe(false);
    expect(isValidLuhn("7992739871a")).toBe(false);
    expect(isValidLuhn("")).toBe(false);
    expect(isValidLuhn("0")).toBe(false);
  });

  it("builds 16-digit program card numbers that pass the check", () => {
    for (const random of ["0", "12345678901", "99999999999", "31415926535"]) {
      const number = cardNumberFrom(random);
      expect(number).toMatch(/^\d{16}$/);
      expect(number).toHaveLength(CARD_NUMBER_LENGTH);
      expect(number.startsWith(CARD_PREFIX)).toBe(true);
      expect(isValidLuhn(number)).toBe(true);
    }
    expect(cardNumberFrom("12345678901")).toBe(`${CARD_PREFIX}12345678901${luhnCheckDigit(`${CARD_PREFIX}12345678901`)}`);
  });
});

describe("display names shown at a partner's till", () => {
  it.each([
    ["김민준", "김*준"],
    ["남궁민수", "남**수"],
    ["이준", "이*"],
    ["Minjun Kim", "Minjun K."],
    ["Mary Jane Watson", "Mary W."],
    ["  김민준  ", "김*준"],
    ["김", "김"],
  ])("masks %s as %s", (name, shown) => {
    expect(displayNameOf(name)).toBe(shown);
    expect(displayNameOf(name, null)).toBe(shown);
  });

  it("uses the preferred name when there is one", () => {
    expect(displayNameOf("김민준", "민준")).toBe("민준");
    expect(displayNameOf("Minjun Kim", "MJ")).toBe("MJ");
  });

  it("falls back to the masked name when the preferred name is empty", () => {
    expect(displayNameOf("김민준", "")).toBe("김*준");
  });
});
