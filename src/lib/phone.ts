/** Phone numbers in E.164, through libphonenumber-js. Korean numbers may be written locally. */
import { parsePhoneNumberFromString } from "libphonenumber-js/min";

export function toE164(input: string, defaultCountry: "KR" = "KR"): string | null {
  const parsed = parsePhoneNumberFromString(input, defaultCountry);
  return parsed?.isValid() ? parsed.number : null;
}
