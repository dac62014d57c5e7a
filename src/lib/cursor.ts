/** Opaque pagination cursors: base64url JSON of the last row's sort key. */
import { invalidField } from "../errors.ts";
import { fromBase64Url, toBase64Url } from "./crypto.ts";

export function encodeCursor(key: string): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify({ k: key })));
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor)));
    if (parsed && typeof parsed === "object" && "k" in parsed && typeof parsed.k === "string") {
      return parsed.k;
    }
  } catch {
    // fall through to the validation error
  }
  throw invalidField("cursor", "Invalid cursor", "The cursor is not one this API returned.");
}

/** Given limit+1 rows, returns the page and the cursor for the next one. */
export function paginate<T>(rows: T[], limit: number, keyOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor(keyOf(last)) : null;
  return { items, nextCursor };
}
