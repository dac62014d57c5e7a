/**
 * runFuzz({ seed, requests }): for request n, pick an operation of the document and a credential,
 * build a valid request from the schemas, bend it (or not), send it to the app in process, and
 * hold the answer to the contract (test/fuzz/contract.ts) and to the access rules
 * (test/support/access.ts). A new world every `perWorld` requests keeps state from piling up
 * (a blocked card, a revoked key) and bounds what a replay has to repeat.
 */
import { ACCESS, mayCall, type Role } from "../support/access.ts";
import { contractOf, type Answer, type Contract, type Document, type Operation } from "./contract.ts";
import { mutate, serialisedBody, type FuzzRequest } from "./mutations.ts";
import { randomFor, type Random } from "./random.ts";
import { valueFor, type ValueSource } from "./values.ts";
import { createWorld, FUZZ_ROLES, type FuzzRole, type World } from "./world.ts";

export interface FuzzOptions {
  seed: number;
  requests: number;
  /** Requests per fresh world (1,000); a replay starts at the first request of the failing one's world. */
  perWorld?: number;
  /** The first request to send (for replays); earlier ones of its world are sent first. */
  from?: number;
  onProgress?: (sent: number) => void;
}

export interface Failure {
  seed: number;
  index: number;
  operation: string;
  role: FuzzRole;
  mutations: string[];
  request: string;
  status: number;
  answer: string;
  violations: string[];
}

export interface FuzzReport {
  seed: number;
  sent: number;
  operations: string[];
  statuses: Record<string, number>;
  /** Requests that got a 2xx, by operation: how much of the API the valid requests reached. */
  successes: Record<string, number>;
  /** What unbent requests got, by operation and status ("201 created"): why an operation is never reached. */
  unbent: Record<string, Record<string, number>>;
  failures: Failure[];
  failureCount: number;
}

const KEPT_FAILURES = 50;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const perWorld = options.perWorld ?? 1_000;
  const start = options.from ?? 0;
  const report: FuzzReport = { seed: options.seed, sent: 0, operations: [], statuses: {}, successes: {}, unbent: {}, failures: [], failureCount: 0 };
  let world: World | null = null;
  let contract: Contract | null = null;
  for (let index = start - (start % perWorld); index < start + options.requests; index++) {
    if (index % perWorld === 0 || !world) {
      world = await createWorld();
      const document = (await (await world.t.app.request("/openapi.json")).json()) as Document;
      contract ??= contractOf(document);
      report.operations = contract.operations.map((o) => o.key);
    }
    const rng = randomFor(options.seed, index);
    const operation = rng.pick(contract!.operations);
    const role = roleFor(operation, world, rng);
    const request = mutate(requestFor(operation, world, contract!, rng), rng, world.foreignIds);
    const answer = await send(world, request, world.credential(role, rng));
    if (index < start) continue;
    report.sent++;
    report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
    if (request.mutations[0] === "valid") {
      const outcome = `${answer.status} ${/"code":"([a-z_]+)"/.exec(answer.text)?.[1] ?? ""}`.trim();
      const seen = (report.unbent[operation.key] ??= {});
      seen[outcome] = (seen[outcome] ?? 0) + 1;
    }
    const violations = contract!.violations(operation, answer);
    if (answer.status >= 200 && answer.status < 300) {
      report.successes[operation.key] = (report.successes[operation.key] ?? 0) + 1;
      violations.push(...accessViolations(operation, role, request, answer, world));
    }
    if (violations.length > 0) {
      report.failureCount++;
      if (report.failures.length < KEPT_FAILURES) report.failures.push(failureOf(options.seed, index, operation, role, request, answer, violations));
    }
    if (report.sent % 1_000 === 0) options.onProgress?.(report.sent);
  }
  return report;
}

/** Half the time a credential the operation admits (so requests get past the door), else any. */
function roleFor(operation: Operation, world: World, rng: Random): FuzzRole {
  const access = ACCESS[operation.key];
  if (!access) throw new Error(`${operation.key} has no row in test/support/access.ts`);
  const admitted = FUZZ_ROLES.filter((r) => mayCall(access, world.accessRole(r), world.scopesOf(r)));
  return admitted.length > 0 && rng.chance(0.5) ? rng.pick(admitted) : rng.pick(FUZZ_ROLES);
}

function requestFor(operation: Operation, world: World, contract: Contract, rng: Random): FuzzRequest {
  const source: ValueSource = {
    rng,
    resolve: contract.resolve,
    hint: (name, schema) => world.hint(name, schema, rng, operation.key),
    time: () => new Date(world.t.clock.now - rng.int(-3_600_000, 40 * 86_400_000)).toISOString(),
  };
  const request: FuzzRequest = { method: operation.method, template: operation.template, pathParams: {}, query: {}, headers: {}, mutations: [] };
  for (const parameter of operation.parameters) {
    if (parameter.in !== "path" && !parameter.required && rng.chance(0.6)) continue;
    const value = String(valueFor(parameter.schema, source, parameter.name));
    if (parameter.in === "path") request.pathParams[parameter.name] = value;
    else if (parameter.in === "query") request.query[parameter.name] = value;
    else request.headers[parameter.name] = value;
  }
  if (operation.body) request.body = { json: valueFor(operation.body, source, `body:${operation.key}`), raw: [] };
  return request;
}

function urlOf(request: FuzzRequest): string {
  const path = request.template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(request.pathParams[name] ?? ""));
  const query = new URLSearchParams(request.query).toString();
  return query ? `${path}?${query}` : path;
}

async function send(world: World, request: FuzzRequest, credential: string | null): Promise<Answer> {
  const headers: Record<string, string> = { ...request.headers };
  if (credential) headers.authorization = credential;
  const body = serialisedBody(request.body);
  if (body?.contentType) headers["content-type"] = body.contentType;
  const res = await world.t.app.request(urlOf(request), { method: request.method, headers, ...(body ? { body: body.payload as BodyInit } : {}) });
  const text = await res.text();
  await world.t.deps.background.idle();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text };
}

/** A success the access rules forbid, or one that shows the caller another tenant's data. */
export function accessViolations(operation: Operation, role: FuzzRole, request: FuzzRequest, answer: Answer, world: World): string[] {
  const pathValues = Object.values(request.pathParams);
  let accessRole: Role = world.accessRole(role);
  if (accessRole === "memberSelf" && pathValues.some((v) => world.foreignToMember.has(v))) accessRole = "memberOther";
  if (!mayCall(ACCESS[operation.key]!, accessRole, world.scopesOf(role))) return [`${role} (${accessRole}) may not succeed at ${operation.key}`];
  // Public operations (sign-in) answer anyone alike: there is no tenant to leak from.
  if (ACCESS[operation.key]!.allow.includes("anonymous")) return [];
  const foreign = accessRole === "partner" ? world.foreignToPartner : accessRole === "memberSelf" ? world.foreignToMember : null;
  if (!foreign) return [];
  const found: string[] = [];
  if (pathValues.some((v) => foreign.has(v))) found.push(`${role} succeeded on another tenant's object`);
  if (accessRole === "partner" && operation.method !== "GET" && pathValues.some((v) => world.operatorOwned.has(v))) found.push(`${role} changed the operator's object`);
  const sent = serialisedBody(request.body)?.payload;
  const sentText = typeof sent === "string" ? sent : "";
  for (const value of foreign) {
    if (operation.key !== "POST /v1/interactions" && sentText.includes(value)) found.push(`${role} succeeded with another tenant's ${value} in the body`);
    if (answer.text.includes(value) && !sentText.includes(value)) found.push(`${role} was shown another tenant's ${value}`);
  }
  if (operation.key === "POST /v1/interactions") found.push(...foreignEventsAccepted(request, answer, foreign));
  return found;
}

/** A batch answers 200 whatever each event's fate: an event naming another tenant must be rejected. */
function foreignEventsAccepted(request: FuzzRequest, answer: Answer, foreign: ReadonlySet<string>): string[] {
  const events = request.body && "json" in request.body ? (request.body.json as { events?: unknown[] }).events : undefined;
  if (!Array.isArray(events)) return [];
  const { results = [] } = JSON.parse(answer.text) as { results?: { index: number; status: string }[] };
  return results
    .filter((r) => r.status === "created" && [...foreign].some((value) => JSON.stringify(events[r.index]).includes(value)))
    .map((r) => `event ${r.index} naming another tenant was recorded`);
}

function failureOf(seed: number, index: number, operation: Operation, role: FuzzRole, request: FuzzRequest, answer: Answer, violations: string[]): Failure {
  const body = serialisedBody(request.body);
  const shown = body === undefined ? "" : typeof body.payload === "string" ? body.payload : `<bytes ${[...body.payload].map((b) => b.toString(16)).join(" ")}>`;
  return {
    seed,
    index,
    operation: operation.key,
    role,
    mutations: request.mutations,
    request: `${request.method} ${urlOf(request)}${Object.keys(request.headers).length ? ` ${JSON.stringify(request.headers)}` : ""}${shown ? ` ${shown.slice(0, 400)}` : ""}`,
    status: answer.status,
    answer: answer.text.slice(0, 400),
    violations,
  };
}
