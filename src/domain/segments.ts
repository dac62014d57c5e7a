/**
 * Rule segments: a marketer's condition tree over member attributes — `{all: […]}`, `{any: […]}`,
 * `{not: {…}}` and comparisons `{attr, op, value}` — validated with field paths into the tree and
 * compiled to an abstract condition that src/services/segments/segments.ts renders as one SQL WHERE clause.
 * Pure: no SQL text, no I/O; the clock, the program's tiers and the declared custom attributes come
 * in as arguments.
 *
 * Missing values: a member without a birth date, never scored or who never bought has no value for
 * those attributes, and every comparison on a missing value is false — `neq` and `nin` included —
 * so `{not: …}` of it is true. `exists` asks for members who have a value.
 */
import { genders, type ConsentChannel } from "./members.ts";
import { z } from "../lib/zod.ts";
import type { LifecycleStage } from "./clv/clv.ts";
import { dayStart, localDate } from "./expiry.ts";
import { RFM_SEGMENTS } from "./rfm.ts";
import { DAY_MS } from "../lib/time.ts";

export const SEGMENT_OPS = ["eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "between", "exists"] as const;
export type SegmentOp = (typeof SEGMENT_OPS)[number];

export type Scalar = string | number | boolean;

export interface Comparison {
  attr: string;
  op: SegmentOp;
  value?: Scalar | Scalar[];
  /** The window of purchaseCountWithin and spendWithin, in days. */
  days?: number;
}

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Comparison;

/** Nesting levels (the root is level 1) and conditions plus groups a rule may have. */
export const MAX_RULE_DEPTH = 8;
export const MAX_RULE_NODES = 200;
/** Values in one `in` / `nin` list. */
export const MAX_LIST_VALUES = 50;
export const MAX_WINDOW_DAYS = 3650;

/**
 * How values of an attribute compare. `tier` is an enum ordered by the program's tiers (lowest
 * first), so `{attr: "tier", op: "gte", value: "gold"}` means gold or above; `reference` is a set the
 * member is in or not (partners bought at, categories bought, segments): eq/in = "has any of".
 */
export type ValueType = "integer" | "number" | "text" | "enum" | "boolean" | "tier" | "reference";

export interface AttributeSpec {
  type: ValueType;
  /** Whether a member can have no value (see the file comment). */
  nullable: boolean;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Takes `days`: a window ending now. */
  windowed?: boolean;
  description: string;
}

export const LIFECYCLE_STAGES = ["new", "active", "vip", "at_risk", "dormant", "reactivated"] as const satisfies readonly LifecycleStage[];
// Fails to compile when src/domain/clv/clv.ts adds a stage this list lacks.
const lifecycleComplete: Exclude<LifecycleStage, (typeof LIFECYCLE_STAGES)[number]> extends never ? true : never = true;
void lifecycleComplete;


const MONEY = 1e15;

/** Every built-in attribute; `custom.<key>` adds the declared custom attributes. */
export const SEGMENT_ATTRIBUTES = {
  age: { type: "integer", min: 0, max: 150, nullable: true, description: "Whole years since the birth date, on today's date in the program's time zone (members.birth_date)" },
  gender: { type: "enum", values: genders, nullable: true, description: "As the member gave it (members.gender)" },
  region: { type: "text", nullable: true, description: "As the member gave it, compared exactly, e.g. \"서울 강남구\" (members.region)" },
  tier: { type: "tier", nullable: false, description: "Tier code; gt/gte/lt/lte/between follow the program's tier order, lowest first (members.tier)" },
  balance: { type: "integer", min: 0, max: MONEY, nullable: false, description: "Available points (member_balances.available)" },
  "consent.email": { type: "boolean", nullable: false, description: "The latest marketing consent recorded for email is a grant; never asked is false (consents)" },
  "consent.sms": { type: "boolean", nullable: false, description: "The same for SMS" },
  "consent.push": { type: "boolean", nullable: false, description: "The same for push messages" },
  "rfm.r": { type: "integer", min: 1, max: 5, nullable: true, description: "Recency score 1–5 from the last recompute; none until scored or without a purchase (member_scores.r)" },
  "rfm.f": { type: "integer", min: 1, max: 5, nullable: true, description: "Frequency score 1–5 (member_scores.f)" },
  "rfm.m": { type: "integer", min: 1, max: 5, nullable: true, description: "Monetary score 1–5 (member_scores.m)" },
  "rfm.segment": { type: "enum", values: RFM_SEGMENTS, nullable: true, description: "RFM segment slug, e.g. champions, at_risk (member_scores.rfm_segment)" },
  daysSinceLastPurchase: { type: "integer", min: 0, max: 36_500, nullable: true, description: "Calendar days in the program's time zone since the last purchase (0: today); none if never bought (member_profiles.last_purchase_at)" },
  purchaseCount: { type: "integer", min: 0, max: MONEY, nullable: false, description: "Purchases ever (member_profiles.purchase_count; 0 without a profile)" },
  monetaryMinor: { type: "integer", min: -MONEY, max: MONEY, nullable: false, description: "Spend ever after offers, net of refunds, in minor units (member_profiles.monetary_minor)" },
  purchaseCountWithin: { type: "integer", min: 0, max: MONEY, nullable: false, windowed: true, description: "Purchases in the last `days` × 24 hours (interactions of kind purchase)" },
  spendWithin: { type: "integer", min: -MONEY, max: MONEY, nullable: false, windowed: true, description: "Amount of those purchases after offers, in minor units (refunds not deducted)" },
  boughtAtPartner: { type: "reference", nullable: false, description: "Has bought at the partner (a partner id; member_affinities partner:…)" },
  boughtInCategory: { type: "reference", nullable: false, description: "Has bought in the item category, or at a partner of that business category without items (member_affinities category:…)" },
  clvMinor: { type: "integer", min: -MONEY, max: MONEY, nullable: true, description: "Customer lifetime value over 12 months, in minor units (member_scores.clv_minor)" },
  pAlive: { type: "number", min: 0, max: 1, nullable: true, description: "Probability the member is still active, 0–1 (member_scores.p_alive)" },
  lifecycle: { type: "enum", values: LIFECYCLE_STAGES, nullable: true, description: "Lifecycle stage from the last recompute; none until scored (member_scores.lifecycle)" },
  inSegment: { type: "reference", nullable: false, description: "Is in the segment's membership as last refreshed (a segment id; no cycles)" },
} as const satisfies Record<string, AttributeSpec>;

export type BuiltInAttribute = keyof typeof SEGMENT_ATTRIBUTES;

export const CUSTOM_ATTRIBUTE_TYPES = ["text", "number", "boolean", "enum"] as const;
export type CustomAttributeType = (typeof CUSTOM_ATTRIBUTE_TYPES)[number];
export const CUSTOM_KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_TEXT_VALUE = 200;

export interface CustomAttribute {
  key: string;
  type: CustomAttributeType;
  /** The allowed values of an enum. */
  values?: readonly string[] | undefined;
}

function customSpec(attribute: CustomAttribute): AttributeSpec {
  const description = `Custom attribute ${attribute.key}`;
  switch (attribute.type) {
    case "text":
      return { type: "text", nullable: true, description };
    case "number":
      return { type: "number", min: -MONEY, max: MONEY, nullable: true, description };
    case "boolean":
      return { type: "boolean", nullable: true, description };
    case "enum":
      return { type: "enum", values: attribute.values ?? [], nullable: true, description };
  }
}

const ORDER_OPS = ["gt", "gte", "lt", "lte", "between"] as const;
const OPS_BY_TYPE: Record<ValueType, readonly SegmentOp[]> = {
  integer: ["eq", "neq", "in", "nin", ...ORDER_OPS],
  number: ["eq", "neq", "in", "nin", ...ORDER_OPS],
  tier: ["eq", "neq", "in", "nin", ...ORDER_OPS],
  text: ["eq", "neq", "in", "nin"],
  enum: ["eq", "neq", "in", "nin"],
  boolean: ["eq", "neq"],
  reference: ["eq", "neq", "in", "nin"],
};

/** The operators an attribute takes: by its type, plus `exists` where a member can lack a value. */
export function opsFor(spec: AttributeSpec): readonly SegmentOp[] {
  return spec.nullable ? [...OPS_BY_TYPE[spec.type], "exists"] : OPS_BY_TYPE[spec.type];
}

/** What the service needs to check a rule fully: the program's tiers and the declared custom attributes. */
export interface RuleCatalog {
  tiers: readonly string[];
  customAttributes: ReadonlyMap<string, CustomAttribute>;
}

export interface RuleIssue {
  /** Path from the rule's root, e.g. ["all", 2, "op"]. */
  path: Array<string | number>;
  message: string;
}

const TYPE_NAMES: Record<ValueType, string> = {
  integer: "a whole number",
  number: "a number",
  text: "text",
  enum: "one of a fixed list",
  boolean: "true or false",
  tier: "a tier",
  reference: "a set the member is in or not",
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
const GROUP_KEYS = ["all", "any", "not"] as const;
const LEAF_KEYS = new Set(["attr", "op", "value", "days"]);
const SHAPE = "Expected a condition: {all: […]}, {any: […]}, {not: {…}} or {attr, op, value}";

function range(spec: AttributeSpec): string {
  const fmt = (n: number) => (Math.abs(n) >= MONEY ? (n < 0 ? "−10^15" : "10^15") : String(n));
  return `${fmt(spec.min ?? -MONEY)}–${fmt(spec.max ?? MONEY)}`;
}

/** The zod schema of one value of an attribute (a tier's code is checked against the program apart). */
function valueSchema(spec: AttributeSpec): z.ZodType {
  switch (spec.type) {
    case "integer": {
      const message = `Expected an integer ${range(spec)}`;
      return z.number({ error: message }).int({ error: message }).min(spec.min ?? -MONEY, { error: message }).max(spec.max ?? MONEY, { error: message });
    }
    case "number": {
      const message = `Expected a number ${range(spec)}`;
      return z.number({ error: message }).min(spec.min ?? -MONEY, { error: message }).max(spec.max ?? MONEY, { error: message });
    }
    case "text":
    case "tier":
    case "reference":
      return z.string({ error: "Expected a string" }).min(1, { error: "Must not be empty" }).max(MAX_TEXT_VALUE, { error: `At most ${MAX_TEXT_VALUE} characters` });
    case "enum": {
      const values = spec.values ?? [];
      return z.string({ error: `Expected one of ${values.join(", ")}` }).refine((v) => values.includes(v), { error: `Expected one of ${values.join(", ")}` });
    }
    case "boolean":
      return z.boolean({ error: "Expected true or false" });
  }
}

/** A value's issues as RuleIssues at `path` (zod's own path appended). */
function check(schema: z.ZodType, value: unknown, path: Array<string | number>, issues: RuleIssue[]): boolean {
  const result = schema.safeParse(value);
  if (result.success) return true;
  const first = result.error.issues[0]!;
  issues.push({ path: [...path, ...(first.path as Array<string | number>)], message: first.message });
  return false;
}

/** Counts nodes without descending below the depth limit (deeper nodes are reported apart). */
function countNodes(node: unknown, depth: number): number {
  if (depth > MAX_RULE_DEPTH + 1 || !isRecord(node)) return 1;
  let n = 1;
  for (const key of ["all", "any"] as const) {
    const items = node[key];
    if (Array.isArray(items)) for (const item of items) n += countNodes(item, depth + 1);
  }
  if (Object.hasOwn(node, "not")) n += countNodes(node.not, depth + 1);
  return n;
}

/**
 * Every problem with a rule, each at its path from the root. Without a catalog, checks everything
 * that needs no database (structure, attributes, operators, value types, limits) and only the
 * shape of `custom.<key>` comparisons; with one, also their declared types and tier codes.
 */
export function validateRule(input: unknown, catalog?: RuleCatalog): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (input === undefined) return [{ path: [], message: "Required" }];
  const nodes = countNodes(input, 1);
  if (nodes > MAX_RULE_NODES) return [{ path: [], message: `A rule has at most ${MAX_RULE_NODES} conditions and groups; this one has ${nodes}` }];

  const visit = (node: unknown, path: Array<string | number>, depth: number) => {
    if (depth > MAX_RULE_DEPTH) {
      issues.push({ path, message: `Too deep: rules nest at most ${MAX_RULE_DEPTH} levels` });
      return;
    }
    if (!isRecord(node)) {
      issues.push({ path, message: SHAPE });
      return;
    }
    const groups = GROUP_KEYS.filter((key) => Object.hasOwn(node, key));
    if (groups.length > 1) {
      issues.push({ path, message: `One of all, any or not per node, not ${groups.join(" and ")}` });
      return;
    }
    const group = groups[0];
    if (group === undefined) {
      visitComparison(node, path, catalog, issues);
      return;
    }
    for (const key of Object.keys(node)) {
      if (key !== group) issues.push({ path: [...path, key], message: `Unrecognized key: a group holds only "${group}"` });
    }
    if (group === "not") {
      visit(node.not, [...path, "not"], depth + 1);
      return;
    }
    const items = node[group];
    if (!Array.isArray(items)) issues.push({ path: [...path, group], message: "Expected a list of conditions" });
    else if (items.length === 0) issues.push({ path: [...path, group], message: "Give at least one condition" });
    else items.forEach((item, i) => visit(item, [...path, group, i], depth + 1));
  };
  visit(input, [], 1);
  return issues;
}

/** The spec of an attribute name, or an issue explaining why there is none (null: custom, not checkable yet). */
function specOf(attr: string, catalog: RuleCatalog | undefined): AttributeSpec | string | null {
  if (Object.hasOwn(SEGMENT_ATTRIBUTES, attr)) return SEGMENT_ATTRIBUTES[attr as BuiltInAttribute];
  if (attr.startsWith("custom.")) {
    const key = attr.slice("custom.".length);
    if (!CUSTOM_KEY_PATTERN.test(key)) return "A custom attribute is custom.<key>: a lower-case letter, then letters, digits or _ (at most 40)";
    if (!catalog) return null;
    const declared = catalog.customAttributes.get(key);
    return declared ? customSpec(declared) : `No custom attribute ${key} is declared (PUT /v1/custom-attributes/${key})`;
  }
  return `Unknown attribute "${attr.slice(0, 60)}"; one of ${Object.keys(SEGMENT_ATTRIBUTES).join(", ")} or custom.<key>`;
}

function visitComparison(node: Record<string, unknown>, path: Array<string | number>, catalog: RuleCatalog | undefined, issues: RuleIssue[]) {
  const at = (key: string | number, ...rest: Array<string | number>) => [...path, key, ...rest];
  if (Object.keys(node).length === 0) {
    issues.push({ path, message: SHAPE });
    return;
  }
  for (const key of Object.keys(node)) if (!LEAF_KEYS.has(key)) issues.push({ path: at(key), message: "Unrecognized key: a comparison has attr, op, value and (for windows) days" });

  let spec: AttributeSpec | null = null;
  let attr: string | null = null;
  if (!Object.hasOwn(node, "attr")) issues.push({ path: at("attr"), message: "Required" });
  else if (typeof node.attr !== "string") issues.push({ path: at("attr"), message: "Expected an attribute name" });
  else {
    attr = node.attr;
    const found = specOf(attr, catalog);
    if (typeof found === "string") {
      issues.push({ path: at("attr"), message: found });
      return;
    }
    spec = found;
  }

  if (!Object.hasOwn(node, "op")) {
    issues.push({ path: at("op"), message: "Required" });
    return;
  }
  const op = node.op;
  if (typeof op !== "string" || !(SEGMENT_OPS as readonly string[]).includes(op)) {
    issues.push({ path: at("op"), message: `Unknown operator; one of ${SEGMENT_OPS.join(", ")}` });
    return;
  }
  if (attr === null) return;
  if (spec) {
    const allowed = opsFor(spec);
    if (!allowed.includes(op as SegmentOp)) {
      const why = op === "exists" ? `every member has one` : TYPE_NAMES[spec.type];
      issues.push({ path: at("op"), message: `${op} does not apply to ${attr} (${why}): use ${allowed.join(", ")}` });
      return;
    }
    if (spec.windowed) {
      if (!Object.hasOwn(node, "days")) issues.push({ path: at("days"), message: `Required: ${attr} counts over a window of days (1–${MAX_WINDOW_DAYS})` });
      else check(z.number().int().min(1).max(MAX_WINDOW_DAYS, { error: `At most ${MAX_WINDOW_DAYS} days` }), node.days, at("days"), issues);
    } else if (Object.hasOwn(node, "days")) {
      issues.push({ path: at("days"), message: "Only purchaseCountWithin and spendWithin take days" });
    }
  }
  checkValue(op as SegmentOp, node, spec, path, catalog, issues);
}

function checkValue(op: SegmentOp, node: Record<string, unknown>, spec: AttributeSpec | null, path: Array<string | number>, catalog: RuleCatalog | undefined, issues: RuleIssue[]) {
  const valuePath = [...path, "value"];
  if (op === "exists") {
    if (Object.hasOwn(node, "value")) issues.push({ path: valuePath, message: "exists takes no value (wrap it in not for members without one)" });
    return;
  }
  if (!Object.hasOwn(node, "value")) {
    issues.push({ path: valuePath, message: `Required for ${op}` });
    return;
  }
  const value = node.value;
  // A custom attribute before its declaration is known: only the shape.
  const one = spec ? valueSchema(spec) : z.custom<Scalar>(isScalar, { error: "Expected a string, number or boolean" });
  const tierOk = (v: unknown, p: Array<string | number>) => {
    if (spec?.type !== "tier" || !catalog || typeof v !== "string" || catalog.tiers.includes(v)) return true;
    issues.push({ path: p, message: `No tier ${v} in the program (${catalog.tiers.join(", ")})` });
    return false;
  };
  if (op === "in" || op === "nin") {
    if (!Array.isArray(value)) issues.push({ path: valuePath, message: `${op} takes a list of values` });
    else if (value.length === 0 || value.length > MAX_LIST_VALUES) issues.push({ path: valuePath, message: `${op} takes 1–${MAX_LIST_VALUES} values` });
    else value.forEach((v, i) => check(one, v, [...valuePath, i], issues) && tierOk(v, [...valuePath, i]));
    return;
  }
  if (op === "between") {
    if (!Array.isArray(value) || value.length !== 2) {
      issues.push({ path: valuePath, message: "between takes [low, high], both included" });
      return;
    }
    const ok = check(one, value[0], [...valuePath, 0], issues) && tierOk(value[0], [...valuePath, 0]);
    const ok2 = check(one, value[1], [...valuePath, 1], issues) && tierOk(value[1], [...valuePath, 1]);
    if (ok && ok2 && spec) {
      const [low, high] = spec.type === "tier" ? value.map((v) => catalog?.tiers.indexOf(v as string) ?? 0) : value;
      if ((low as number) > (high as number)) issues.push({ path: valuePath, message: `between takes [low, high] with low ≤ high` });
    }
    return;
  }
  if (Array.isArray(value)) {
    issues.push({ path: valuePath, message: `${op} takes one value${op === "eq" || op === "neq" ? " (in and nin take lists)" : ""}` });
    return;
  }
  if (check(one, value, valuePath, issues)) tierOk(value, valuePath);
}

/** The zod schema routes use for a rule: every catalog-free check, reported at `rule.<path>`. */
export const RuleSchema = z.custom<Rule>().superRefine((value, ctx) => {
  for (const issue of validateRule(value)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
});

// ---------------------------------------------------------------------------------------------
// References: what a rule names outside itself, for the service to check and to order refreshes.

export interface RuleReference {
  kind: "segment" | "partner";
  id: string;
  path: Array<string | number>;
}

/** Walks a valid rule's comparisons with their paths. */
function forEachComparison(rule: Rule, visit: (c: Comparison, path: Array<string | number>) => void, path: Array<string | number> = []) {
  if ("all" in rule) rule.all.forEach((r, i) => forEachComparison(r, visit, [...path, "all", i]));
  else if ("any" in rule) rule.any.forEach((r, i) => forEachComparison(r, visit, [...path, "any", i]));
  else if ("not" in rule) forEachComparison(rule.not, visit, [...path, "not"]);
  else visit(rule, path);
}

/** The segments (inSegment) and partners (boughtAtPartner) a valid rule names, with the path of each value. */
export function ruleReferences(rule: Rule): RuleReference[] {
  const out: RuleReference[] = [];
  forEachComparison(rule, (c, path) => {
    const kind = c.attr === "inSegment" ? "segment" : c.attr === "boughtAtPartner" ? "partner" : null;
    if (!kind) return;
    if (Array.isArray(c.value)) c.value.forEach((v, i) => out.push({ kind, id: String(v), path: [...path, "value", i] }));
    else if (c.value !== undefined) out.push({ kind, id: String(c.value), path: [...path, "value"] });
  });
  return out;
}

/** The segment ids a rule refers to, once each. */
export function segmentDependencies(rule: Rule): string[] {
  return [...new Set(ruleReferences(rule).filter((r) => r.kind === "segment").map((r) => r.id))];
}

/**
 * The cycle `segmentId` would close by referring to `references`, as the chain of ids from it back
 * to it (["seg_a", "seg_b", "seg_a"]), or null. `dependenciesOf` gives the stored segments' references.
 */
export function findCycle(segmentId: string, references: readonly string[], dependenciesOf: (id: string) => readonly string[]): string[] | null {
  const seen = new Set<string>();
  const walk = (id: string, chain: string[]): string[] | null => {
    if (id === segmentId) return [...chain, id];
    if (seen.has(id)) return null;
    seen.add(id);
    for (const next of dependenciesOf(id)) {
      const found = walk(next, [...chain, id]);
      if (found) return found;
    }
    return null;
  };
  for (const reference of references) {
    const found = walk(reference, [segmentId]);
    if (found) return found;
  }
  return null;
}

/**
 * Segments in an order where each comes after those it refers to (Kahn's algorithm, ties by id),
 * so one pass refreshes everything against fresh memberships. References to unknown ids are ignored;
 * segments caught in a cycle (which validation refuses) come last, in id order.
 */
export function refreshOrder(segments: ReadonlyArray<{ id: string; dependencies: readonly string[] }>): string[] {
  const ids = new Set(segments.map((s) => s.id));
  const waiting = new Map(segments.map((s) => [s.id, new Set(s.dependencies.filter((d) => ids.has(d) && d !== s.id))]));
  const order: string[] = [];
  while (waiting.size > 0) {
    const ready = [...waiting].filter(([, deps]) => deps.size === 0).map(([id]) => id).sort();
    const batch = ready.length > 0 ? ready : [...waiting.keys()].sort();
    for (const id of batch) {
      order.push(id);
      waiting.delete(id);
      for (const deps of waiting.values()) deps.delete(id);
    }
  }
  return order;
}

// ---------------------------------------------------------------------------------------------
// Compilation to an abstract condition.

/** Columns of the members row and of the rows LEFT JOINed to it, by table and column. */
export type SegmentColumn =
  | "members.birth_date"
  | "members.gender"
  | "members.region"
  | "members.tier"
  | "member_balances.available"
  | "member_profiles.last_purchase_at"
  | "member_profiles.purchase_count"
  | "member_profiles.monetary_minor"
  | "member_scores.r"
  | "member_scores.f"
  | "member_scores.m"
  | "member_scores.rfm_segment"
  | "member_scores.clv_minor"
  | "member_scores.p_alive"
  | "member_scores.lifecycle";

/** A value per member. Never-null operands (counts, balances, consents) read 0 when nothing is recorded. */
export type Operand =
  | { kind: "column"; column: SegmentColumn }
  | { kind: "custom"; key: string; stored: "text" | "number" }
  | { kind: "purchasesSince"; sinceMs: number; measure: "count" | "spend" }
  | { kind: "consent"; channel: ConsentChannel };

export type CompareOp = "=" | "<>" | "<" | "<=" | ">" | ">=";

export type Condition =
  | { kind: "all" | "any"; items: Condition[] }
  /** Two-valued: a comparison on a missing value is false inside, so its negation is true. */
  | { kind: "not"; item: Condition }
  | { kind: "compare"; operand: Operand; op: CompareOp; value: string | number }
  | { kind: "oneOf"; operand: Operand; values: Array<string | number> }
  | { kind: "present"; operand: Operand }
  /** Has a member_affinities row with one of these subjects ("partner:prt_…", "category:ticket"). */
  | { kind: "affinity"; subjects: string[] }
  /** Is in one of these segments' memberships. */
  | { kind: "inSegment"; segmentIds: string[] }
  | { kind: "constant"; value: boolean };

export interface CompileContext extends RuleCatalog {
  nowMs: number;
  utcOffsetMinutes: number;
}

const all = (items: Condition[]): Condition => (items.length === 1 ? items[0]! : { kind: "all", items });
const any = (items: Condition[]): Condition => (items.length === 1 ? items[0]! : { kind: "any", items });
const not = (item: Condition): Condition => ({ kind: "not", item });
const FALSE: Condition = { kind: "constant", value: false };
const column = (name: SegmentColumn): Operand => ({ kind: "column", column: name });
const stored = (v: Scalar): string | number => (typeof v === "boolean" ? (v ? 1 : 0) : v);
const list = (value: Comparison["value"]): Scalar[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

const COLUMN_OF: Partial<Record<string, SegmentColumn>> = {
  gender: "members.gender",
  region: "members.region",
  balance: "member_balances.available",
  "rfm.r": "member_scores.r",
  "rfm.f": "member_scores.f",
  "rfm.m": "member_scores.m",
  "rfm.segment": "member_scores.rfm_segment",
  purchaseCount: "member_profiles.purchase_count",
  monetaryMinor: "member_profiles.monetary_minor",
  clvMinor: "member_scores.clv_minor",
  pAlive: "member_scores.p_alive",
  lifecycle: "member_scores.lifecycle",
};

const COMPARE: Record<"eq" | "neq" | "gt" | "gte" | "lt" | "lte", CompareOp> = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" };

/** A comparison on a plain operand. */
function onOperand(operand: Operand, op: SegmentOp, value: Comparison["value"]): Condition {
  const values = list(value).map(stored);
  switch (op) {
    case "eq":
    case "neq":
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return { kind: "compare", operand, op: COMPARE[op], value: values[0]! };
    case "between":
      return all([
        { kind: "compare", operand, op: ">=", value: values[0]! },
        { kind: "compare", operand, op: "<=", value: values[1]! },
      ]);
    case "in":
      return { kind: "oneOf", operand, values };
    case "nin":
      return all([{ kind: "present", operand }, not({ kind: "oneOf", operand, values })]);
    case "exists":
      return { kind: "present", operand };
  }
}

/**
 * A comparison on a whole-number attribute derived from a column by a monotone step (age from the
 * birth date, days since from a time), given as `atLeast(n)` and `atMost(n)` conditions on the raw
 * column: comparisons stay on the column, where an index can serve them.
 */
function onDerivedInteger(present: Operand, atLeast: (n: number) => Condition, atMost: (n: number) => Condition, op: SegmentOp, value: Comparison["value"]): Condition {
  const values = list(value) as number[];
  const equal = (n: number) => all([atLeast(n), atMost(n)]);
  switch (op) {
    case "eq":
      return equal(values[0]!);
    case "neq":
      return all([{ kind: "present", operand: present }, not(equal(values[0]!))]);
    case "gt":
      return atLeast(values[0]! + 1);
    case "gte":
      return atLeast(values[0]!);
    case "lt":
      return atMost(values[0]! - 1);
    case "lte":
      return atMost(values[0]!);
    case "between":
      return all([atLeast(values[0]!), atMost(values[1]!)]);
    case "in":
      return any(values.map(equal));
    case "nin":
      return all([{ kind: "present", operand: present }, not(any(values.map(equal)))]);
    case "exists":
      return { kind: "present", operand: present };
  }
}

/** The date a member born on it turns `years` today: "YYYY-MM-DD" strings compare as dates. */
function bornBy(today: string, years: number): string {
  const year = Number(today.slice(0, 4)) - years;
  return `${String(Math.max(0, year)).padStart(4, "0")}${today.slice(4)}`;
}

function compileAge(c: Comparison, ctx: CompileContext): Condition {
  const today = localDate(ctx.nowMs, ctx.utcOffsetMinutes);
  const birth = column("members.birth_date");
  // age ≥ n ⇔ born on or before today n years ago; age ≤ n ⇔ not yet n + 1.
  return onDerivedInteger(
    birth,
    (n) => ({ kind: "compare", operand: birth, op: "<=", value: bornBy(today, n) }),
    (n) => ({ kind: "compare", operand: birth, op: ">", value: bornBy(today, n + 1) }),
    c.op,
    c.value,
  );
}

function compileDaysSince(c: Comparison, ctx: CompileContext): Condition {
  const todayStart = dayStart(ctx.nowMs, ctx.utcOffsetMinutes);
  const last = column("member_profiles.last_purchase_at");
  // days ≥ n ⇔ the last purchase is before the start of the local day n − 1 days ago.
  return onDerivedInteger(
    last,
    (n) => ({ kind: "compare", operand: last, op: "<", value: todayStart - (n - 1) * DAY_MS }),
    (n) => ({ kind: "compare", operand: last, op: ">=", value: todayStart - n * DAY_MS }),
    c.op,
    c.value,
  );
}

/** Tier comparisons become a list of tier codes, by the program's order. */
function compileTier(c: Comparison, ctx: CompileContext): Condition {
  const tier = column("members.tier");
  const rank = (v: Scalar | undefined) => ctx.tiers.indexOf(String(v));
  const values = list(c.value);
  const where = (keep: (i: number) => boolean): Condition => {
    const codes = ctx.tiers.filter((_, i) => keep(i));
    return codes.length ? { kind: "oneOf", operand: tier, values: codes } : FALSE;
  };
  // A tier the program no longer has (a stored rule) ranks nowhere: order comparisons match nobody.
  if (["gt", "gte", "lt", "lte", "between"].includes(c.op) && values.some((v) => rank(v) < 0)) return FALSE;
  switch (c.op) {
    case "gt":
      return where((i) => i > rank(values[0]));
    case "gte":
      return where((i) => i >= rank(values[0]));
    case "lt":
      return where((i) => i < rank(values[0]));
    case "lte":
      return where((i) => i <= rank(values[0]));
    case "between":
      return where((i) => i >= rank(values[0]) && i <= rank(values[1]));
    default:
      return onOperand(tier, c.op, c.value);
  }
}

/** Set membership: eq / in = in any of them; neq / nin = in none. */
function compileMembership(has: (ids: string[]) => Condition, op: SegmentOp, value: Comparison["value"]): Condition {
  const ids = list(value).map(String);
  return op === "eq" || op === "in" ? has(ids) : not(has(ids));
}

function compileComparison(c: Comparison, ctx: CompileContext): Condition {
  switch (c.attr) {
    case "age":
      return compileAge(c, ctx);
    case "daysSinceLastPurchase":
      return compileDaysSince(c, ctx);
    case "tier":
      return compileTier(c, ctx);
    case "boughtAtPartner":
      return compileMembership((ids) => ({ kind: "affinity", subjects: ids.map((id) => `partner:${id}`) }), c.op, c.value);
    case "boughtInCategory":
      return compileMembership((ids) => ({ kind: "affinity", subjects: ids.map((id) => `category:${id}`) }), c.op, c.value);
    case "inSegment":
      return compileMembership((ids) => ({ kind: "inSegment", segmentIds: ids }), c.op, c.value);
    case "purchaseCountWithin":
    case "spendWithin": {
      const sinceMs = ctx.nowMs - (c.days ?? 0) * DAY_MS;
      return onOperand({ kind: "purchasesSince", sinceMs, measure: c.attr === "spendWithin" ? "spend" : "count" }, c.op, c.value);
    }
  }
  if (c.attr.startsWith("consent.")) return onOperand({ kind: "consent", channel: c.attr.slice("consent.".length) as ConsentChannel }, c.op, c.value);
  if (c.attr.startsWith("custom.")) {
    const declared = ctx.customAttributes.get(c.attr.slice("custom.".length));
    // A stored rule naming an attribute no longer declared matches nobody.
    if (!declared) return FALSE;
    return onOperand({ kind: "custom", key: declared.key, stored: declared.type === "text" || declared.type === "enum" ? "text" : "number" }, c.op, c.value);
  }
  const name = COLUMN_OF[c.attr];
  return name ? onOperand(column(name), c.op, c.value) : FALSE;
}

/**
 * A valid rule as one condition over a member, at `ctx.nowMs` (ages, days since and windows are
 * fixed to that instant, so one refresh judges every member at the same time).
 */
export function compileRule(rule: Rule, ctx: CompileContext): Condition {
  if ("all" in rule) return all(rule.all.map((r) => compileRule(r, ctx)));
  if ("any" in rule) return any(rule.any.map((r) => compileRule(r, ctx)));
  if ("not" in rule) return not(compileRule(rule.not, ctx));
  return compileComparison(rule, ctx);
}

/** A path from the rule's root as the API names fields: "rule.all.2.op". */
export function rulePath(path: ReadonlyArray<string | number>): string {
  return ["rule", ...path].join(".");
}
