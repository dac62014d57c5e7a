/**
 * What a hostile or broken client sends instead: a valid request bent one or more ways — wrong
 * types, missing and extra fields, huge strings and numbers, unicode, lone surrogates, NUL,
 * __proto__ keys, deep nesting, foreign ids, bodies that are not JSON at all.
 */
import type { Random } from "./random.ts";

export interface FuzzRequest {
  method: string;
  /** The path as the document writes it, e.g. /v1/members/{memberId}. */
  template: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** JSON to serialise (with `raw` markers replaced by literal JSON text), or bytes as they are. */
  body?: { json: unknown; raw: Array<[marker: string, text: string]> } | { bytes: Uint8Array | string; contentType: string | null };
  /** The bends applied, "valid" when none. */
  mutations: string[];
}

/** JSON that JSON.stringify cannot write: a marker string stands in for it until the body is sent. */
let markers = 0;

function rawValue(request: FuzzRequest, text: string): string {
  const marker = `\u0001raw${++markers}\u0001`;
  if (request.body && "json" in request.body) request.body.raw.push([marker, text]);
  return marker;
}

export function serialisedBody(body: FuzzRequest["body"]): { payload: string | Uint8Array; contentType: string | null } | undefined {
  if (!body) return undefined;
  if ("bytes" in body) return { payload: body.bytes, contentType: body.contentType };
  let text = JSON.stringify(body.json) ?? "null";
  for (const [marker, raw] of body.raw) text = text.replace(JSON.stringify(marker), raw);
  return { payload: text, contentType: "application/json" };
}

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

/** Every place in the body a value sits, the body itself included (as the slot of a holder). */
function slotsOf(holder: { value: unknown }): Slot[] {
  const slots: Slot[] = [{ parent: holder as unknown as Record<string, unknown>, key: "value" }];
  const walk = (value: unknown, depth: number) => {
    if (depth > 12 || value === null || typeof value !== "object") return;
    for (const key of Array.isArray(value) ? value.keys() : Object.keys(value)) {
      slots.push({ parent: value as Record<string, unknown>, key });
      walk((value as Record<string | number, unknown>)[key], depth + 1);
    }
  };
  walk(holder.value, 0);
  return slots;
}

function objectsOf(holder: { value: unknown }): Record<string, unknown>[] {
  return slotsOf(holder)
    .map((s) => (s.parent as Record<string | number, unknown>)[s.key])
    .filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v));
}

function nested(depth: number, asArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

const FOREIGN_LOOKING = ["0", "-1", "x".repeat(300), "한글", "\u0000", "'; DROP TABLE members;--", "mem_00000000000000000000000000", "%2e%2e", "null", "🎬"];

type Mutation = (request: FuzzRequest, rng: Random, foreignIds: readonly string[]) => boolean;

/** Bends that change one value of the body. */
const valueBends: Record<string, (request: FuzzRequest, rng: Random) => unknown> = {
  "wrong-type": (_, rng) => rng.pick([42, -1, "text", true, false, null, [], {}, [1, "a"], { a: 1 }]),
  "huge-string": (_, rng) => (rng.chance(0.5) ? "가".repeat(rng.int(1_000, 30_000)) : "x".repeat(rng.int(200, 70_000))),
  "extreme-number": (request, rng) =>
    rng.chance(0.5)
      ? rng.pick([2 ** 53, -(2 ** 53), 2 ** 53 + 2, -1, 0, 0.5, 1e308, -1e308, Number.MIN_VALUE])
      : rawValue(request, rng.pick(["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0", "1E+2"])),
  unicode: (request, rng) =>
    rng.chance(0.5)
      ? rng.pick(["😀🎬", "\u200b", "\u202e역방향", "é", "\uFEFF문자", "🏳️‍🌈", "a\u0000b", "tab\there", "\u0085", "\u001b[31m"])
      : rawValue(request, rng.pick(['"\\ud800x"', '"\\udfff"', '"a\\u0000b"', '"\\u0007"', '"\\ud83d"', '"\\uD800\\uDC00"'])),
  "deep-nesting": (_, rng) => nested(rng.int(20, 60), rng.chance(0.5)),
};

const mutations: Record<string, Mutation> = {
  ...Object.fromEntries(
    Object.entries(valueBends).map(([name, bend]): [string, Mutation] => [
      name,
      (request, rng) => {
        if (!request.body || !("json" in request.body)) return false;
        const holder = { value: request.body.json };
        const slot = rng.pick(slotsOf(holder));
        (slot.parent as Record<string | number, unknown>)[slot.key] = bend(request, rng);
        request.body.json = holder.value;
        return true;
      },
    ]),
  ),
  "missing-field": (request, rng) => {
    if (!request.body || !("json" in request.body)) return false;
    const objects = objectsOf({ value: request.body.json }).filter((o) => Object.keys(o).length > 0);
    if (objects.length === 0) return false;
    const object = rng.pick(objects);
    delete object[rng.pick(Object.keys(object))];
    return true;
  },
  "extra-field": (request, rng) => {
    if (!request.body || !("json" in request.body)) return false;
    const objects = objectsOf({ value: request.body.json });
    if (objects.length === 0) return false;
    const key = rng.pick(["extra", "__proto__", "constructor", "prototype", "hasOwnProperty", "x".repeat(300), "\u0000", ""]);
    // defineProperty, so "__proto__" becomes a key of the JSON and not the object's prototype.
    Object.defineProperty(rng.pick(objects), key, { value: rng.pick([1, "x", { isAdmin: true }, null]), enumerable: true, configurable: true, writable: true });
    return true;
  },
  "foreign-id": (request, rng, foreignIds) => {
    const names = Object.keys(request.pathParams);
    if (names.length === 0) return false;
    request.pathParams[rng.pick(names)] = rng.chance(0.6) ? rng.pick(foreignIds) : rng.pick(FOREIGN_LOOKING);
    return true;
  },
  "raw-body": (request, rng) => {
    if (request.method === "GET") return false;
    const bytes = rng.pick<string | Uint8Array>(["", "{", "null", "[]", "42", '"text"', '{"a":1}{}', "\u0000", "{'a':1}", new Uint8Array([0xc3, 0x28]), new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), new Uint8Array([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])]);
    request.body = { bytes, contentType: "application/json" };
    return true;
  },
  "content-type": (request, rng) => {
    const sent = serialisedBody(request.body);
    if (!sent) return false;
    request.body = { bytes: sent.payload, contentType: rng.pick([null, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "application/json-patch+json"]) };
    return true;
  },
  query: (request, rng) => {
    const name = rng.pick(["limit", "cursor", "q", "zzz", "reason", "kind", "recipient", "from", "to", "format", "lang"]);
    request.query[name] = rng.pick(["0", "-1", "abc", "1e400", "101", "9007199254740993", "!!!", "x".repeat(1_000), "", "한글", "%", "true", "null"]);
    return true;
  },
  header: (request, rng) => {
    request.headers["idempotency-key"] = rng.pick(["", " ", "x".repeat(300), "k-1", "k-1", "é", "a\tb"]);
    return true;
  },
};

const MUTATION_NAMES = Object.keys(mutations);

/** Bends a valid request: none for about a third, one for most of the rest, up to three. */
export function mutate(request: FuzzRequest, rng: Random, foreignIds: readonly string[]): FuzzRequest {
  const count = rng.chance(0.35) ? 0 : rng.chance(0.75) ? 1 : rng.int(2, 3);
  for (let tries = 0; request.mutations.length < count && tries < 10; tries++) {
    const name = rng.pick(MUTATION_NAMES);
    if (mutations[name]!(request, rng, foreignIds)) request.mutations.push(name);
  }
  if (request.mutations.length === 0) request.mutations.push("valid");
  return request;
}
