/**
 * Bounds on a parsed JSON body, checked before any schema sees it. A schema's work (and the size
 * of its error answer) grows with what it is given, so a body is refused first when it nests too
 * deep, holds too many keys or values, or carries text no field may hold.
 */

export const JSON_LIMITS = {
  /** Levels of objects and arrays. A segment rule of 8 levels nests about 18 deep. */
  maxDepth: 32,
  /** Keys in one object: room for a program's per-partner rates in a large coalition. */
  maxKeysPerObject: 1_000,
  /** Values of every kind in the whole body: a batch of 1,000 events holds about 20,000. */
  maxValues: 100_000,
} as const;

export type JsonLimits = { maxDepth: number; maxKeysPerObject: number; maxValues: number };

export interface JsonViolation {
  kind: "too_deep" | "too_many_keys" | "too_many_values" | "invalid_text";
  /** Where, as the path of keys and indexes from the body's root. */
  path: Array<string | number>;
  message: string;
}

/**
 * Lone UTF-16 surrogates (`"\ud800"` is valid JSON, but no character) and control characters
 * other than tab, line feed and carriage return. Single-line fields refuse those three as well,
 * in their own schemas.
 */
const INVALID_TEXT = /[\p{Cs}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

export function isValidText(text: string): boolean {
  return !INVALID_TEXT.test(text);
}

/** The first bound the value breaks, or null. Iterative, so no nesting can exhaust the stack. */
export function checkJsonBounds(root: unknown, limits: JsonLimits = JSON_LIMITS): JsonViolation | null {
  const stack: Array<{ value: unknown; depth: number; path: Array<string | number> }> = [{ value: root, depth: 0, path: [] }];
  let values = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (++values > limits.maxValues) {
      return { kind: "too_many_values", path: [], message: `A body holds at most ${limits.maxValues} values.` };
    }
    if (typeof value === "string") {
      if (!isValidText(value)) return { kind: "invalid_text", path, message: "Text may not hold control characters or lone surrogates" };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= limits.maxDepth) {
      return { kind: "too_deep", path, message: `A body nests at most ${limits.maxDepth} levels of objects and arrays.` };
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: [...path, i] }));
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeysPerObject) {
      return { kind: "too_many_keys", path, message: `An object holds at most ${limits.maxKeysPerObject} keys.` };
    }
    for (const key of keys) {
      if (!isValidText(key)) return { kind: "invalid_text", path: [...path, key], message: "A key may not hold control characters or lone surrogates" };
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: [...path, key] });
    }
  }
  return null;
}
