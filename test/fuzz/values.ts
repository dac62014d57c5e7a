/**
 * Valid values from the document's JSON Schemas: what a careful client would send. Fields the
 * world knows by name (ids, cards, emails, segment rules) come from the world, so valid requests
 * reach the handlers' logic and not only their validation.
 */
import type { Random } from "./random.ts";

export type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  example?: unknown;
  default?: unknown;
};

/** What a hint answers when it has nothing for a field: the schema decides. */
export const NO_HINT = Symbol("no hint");
/** What a hint answers for an optional field the request is better without. */
export const OMIT = Symbol("omit");

export interface ValueSource {
  rng: Random;
  resolve(schema: Schema): Schema;
  /** A value the world knows for a field of this name, or NO_HINT. */
  hint(name: string, schema: Schema): unknown;
  /** An ISO time near the app's clock. */
  time(): string;
}

const TEXT = ["별빛시네마", "카페 다온", "한빛서점", "김민준", "이서연", "Popcorn", "snacks", "R-2026", "골드", "서울 마포구"];

/**
 * Strings for the patterns the document uses, each checked against its pattern before use; a
 * pattern not listed falls back to the schema's example, then to plain text.
 */
const PATTERNED: Array<[RegExp, (rng: Random) => string]> = [
  [/^\^\\d\{6\}\$$/, (rng) => String(rng.int(0, 999_999)).padStart(6, "0")],
  [/^\^\\d\{4,6\}\$$/, (rng) => String(rng.int(0, 999_999)).padStart(rng.int(4, 6), "0").slice(0, 6)],
  [/^\^\\d\{16\}\$$/, (rng) => Array.from({ length: 16 }, () => rng.int(0, 9)).join("")],
  [/^\^\\d\{4\}-\\d\{2\}-\\d\{2\}\$$/, (rng) => `19${rng.int(50, 99)}-0${rng.int(1, 9)}-${rng.int(10, 28)}`],
  [/^\^\\d\{4\}-\(0\[1-9\]/, (rng) => `2026-0${rng.int(1, 4)}`],
  [/^\^\(\[01\]\\d/, (rng) => `${String(rng.int(0, 23)).padStart(2, "0")}:${String(rng.int(0, 59)).padStart(2, "0")}`],
  [/^\^\[A-Z\]\{3\}\$$/, (rng) => rng.pick(["KRW", "KRW", "KRW", "USD"])],
  [/^\^\[a-z\]\[a-z0-9_\]/, (rng) => `attr_${rng.int(0, 9)}`],
  [/^\^\[A-Za-z0-9\]\[A-Za-z0-9._-\]\*\$$/, (rng) => `K${rng.int(0, 99_999)}.x-1`],
  [/^\^\[\\x21-\\x7e\]/, (rng) => `key-${rng.int(0, 20)}`],
];

function stringFor(schema: Schema, source: ValueSource): string {
  const { rng } = source;
  if (schema.format === "date-time") return source.time();
  if (schema.format === "email") return `fuzz${rng.int(0, 9_999)}@example.com`;
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, "u");
    const make = PATTERNED.find(([shape]) => shape.test(schema.pattern!))?.[1];
    const made = make?.(rng);
    if (made !== undefined && pattern.test(made)) return made;
    if (typeof schema.example === "string" && pattern.test(schema.example)) return schema.example;
  }
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, Math.max(min, 40));
  let text = rng.pick(TEXT);
  while (text.length < min) text += rng.pick(TEXT);
  return text.slice(0, max);
}

function numberFor(schema: Schema, source: ValueSource, integer: boolean): number {
  const { rng } = source;
  const lo = schema.minimum ?? -1_000;
  // Most values small, as real requests are; sometimes the top of the range.
  const hi = schema.maximum ?? lo + 100_000;
  const value = rng.chance(0.1) ? hi : lo + rng.next() * Math.min(hi - lo, 50_000);
  return integer ? Math.floor(value) : value;
}

function typeOf(schema: Schema, rng: Random): string | undefined {
  if (!Array.isArray(schema.type)) return schema.type;
  const types = schema.type.filter((t) => t !== "null");
  return types.length === 0 || rng.chance(0.1) ? "null" : rng.pick(types);
}

/** A value valid for the schema (as far as the schema says), at most a few levels deep. */
export function valueFor(schema: Schema, source: ValueSource, name?: string, depth = 0): unknown {
  const s = source.resolve(schema);
  // A field's enum outranks what the world knows by its name.
  if (name !== undefined && s.enum === undefined && s.const === undefined) {
    const hinted = source.hint(name, s);
    if (hinted !== NO_HINT) return hinted;
  }
  const { rng } = source;
  if (s.allOf?.length) return valueFor(s.allOf[0]!, source, name, depth);
  const branches = s.oneOf ?? s.anyOf;
  if (branches?.length) return valueFor(rng.pick(branches), source, name, depth);
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return rng.pick(s.enum);
  if (s.example !== undefined && rng.chance(0.3)) return s.example;
  switch (typeOf(s, rng)) {
    case "null":
      return null;
    case "string":
      return stringFor(s, source);
    case "integer":
      return numberFor(s, source, true);
    case "number":
      return numberFor(s, source, false);
    case "boolean":
      return rng.chance(0.5);
    case "array": {
      const min = s.minItems ?? 0;
      const count = depth > 3 ? min : rng.int(min, Math.min(s.maxItems ?? min + 3, min + 3));
      const itemName = name?.endsWith("Ids") ? name.slice(0, -1) : undefined;
      return Array.from({ length: count }, () => valueFor(s.items ?? {}, source, itemName, depth + 1));
    }
    default:
      return objectFor(s, source, depth);
  }
}

function objectFor(s: Schema, source: ValueSource, depth: number): Record<string, unknown> {
  const { rng } = source;
  const required = new Set(s.required ?? []);
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(s.properties ?? {})) {
    if (!required.has(key) && (depth >= 4 || rng.chance(0.5))) continue;
    const value = valueFor(property, source, key, depth + 1);
    if (value !== OMIT || required.has(key)) out[key] = value === OMIT ? valueFor(property, { ...source, hint: () => NO_HINT }, key, depth + 1) : value;
  }
  if (typeof s.additionalProperties === "object" && depth < 4) {
    for (let i = rng.int(0, 2); i > 0; i--) out[`k${rng.int(0, 9)}`] = valueFor(s.additionalProperties, source, undefined, depth + 1);
  }
  return out;
}
