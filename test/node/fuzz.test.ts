/**
 * The schema-driven fuzzer (test/fuzz/) as a test: a fixed-seed sample of generated and bent
 * requests against every operation with every kind of credential. `npm run fuzz` runs the long
 * version with any seed. The oracle is checked first, so a fuzzer that could not fail does not pass.
 */
import { describe, expect, it } from "vitest";
import { createTestApp } from "../helpers/app.ts";
import { contractOf, type Document, type Operation } from "../fuzz/contract.ts";
import type { FuzzRequest } from "../fuzz/mutations.ts";
import { accessViolations, runFuzz } from "../fuzz/run.ts";
import { createWorld } from "../fuzz/world.ts";

const SEED = 20261203;
const SAMPLE = 5_000;

async function documentOf() {
  const t = await createTestApp();
  return (await (await t.call("GET", "/openapi.json", { token: null })).json()) as Document;
}

describe("the fuzzer's oracle", () => {
  it("refuses 5xx, undeclared statuses, errors that are not problem+json, oversized problems and bodies off their schema", async () => {
    const contract = contractOf(await documentOf());
    const balance = contract.operations.find((o) => o.key === "GET /v1/members/{memberId}/balance")!;
    const problem = (status: number, code: string) => JSON.stringify({ type: `urn:dangol:problem:${code}`, title: "t", status, code, detail: "d", requestId: "r" });
    const json = "application/json";
    const pj = "application/problem+json";
    expect(contract.violations(balance, { status: 404, contentType: pj, text: problem(404, "not_found") })).toEqual([]);
    expect(contract.violations(balance, { status: 500, contentType: pj, text: problem(500, "internal_error") })).toEqual(["server error 500"]);
    expect(contract.violations(balance, { status: 418, contentType: pj, text: problem(418, "not_found") })).toEqual(["status 418 is not declared"]);
    expect(contract.violations(balance, { status: 404, contentType: "text/plain", text: "404 Not Found" })[0]).toMatch(/not problem\+json/);
    expect(contract.violations(balance, { status: 404, contentType: pj, text: problem(404, "no_such_code") })[0]).toMatch(/problem body off its schema/);
    expect(contract.violations(balance, { status: 400, contentType: pj, text: JSON.stringify({ ...JSON.parse(problem(400, "validation_failed")), detail: "x".repeat(20_000) }) })[0]).toMatch(/problem body of/);
    expect(contract.violations(balance, { status: 200, contentType: json, text: JSON.stringify({ available: "lots" }) })[0]).toMatch(/body off its schema/);
    expect(contract.violations(balance, { status: 200, contentType: "text/html", text: "<p>" })[0]).toMatch(/content type text\/html is not declared/);
  });

  it("refuses a success the access rules forbid, or one that shows another tenant's objects", async () => {
    const world = await createWorld();
    const contract = contractOf(await documentOf());
    const op = (key: string) => contract.operations.find((o) => o.key === key) as Operation;
    const [foreignMember] = [...world.foreignToMember];
    const [foreignPartnerObject] = [...world.foreignToPartner];
    const request = (template: string, pathParams: Record<string, string> = {}): FuzzRequest => ({ method: "GET", template, pathParams, query: {}, headers: {}, mutations: ["valid"] });
    const ok = (text: string) => ({ status: 200, contentType: "application/json", text });
    expect(accessViolations(op("GET /v1/members"), "marketer", request("/v1/members"), ok("{}"), world)).toEqual([]);
    expect(accessViolations(op("GET /v1/members"), "partner:all", request("/v1/members"), ok("{}"), world)[0]).toMatch(/may not succeed/);
    expect(accessViolations(op("GET /v1/outbox"), "garbage", request("/v1/outbox"), ok("{}"), world)[0]).toMatch(/may not succeed/);
    expect(accessViolations(op("GET /v1/members/{memberId}"), "member", request("/v1/members/{memberId}", { memberId: foreignMember! }), ok("{}"), world)[0]).toMatch(/memberOther/);
    expect(accessViolations(op("GET /v1/partners/{partnerId}"), "partner:cards:verify", request("/v1/partners/{partnerId}", { partnerId: foreignPartnerObject! }), ok("{}"), world)[0]).toMatch(/another tenant's object/);
    expect(accessViolations(op("GET /v1/offers"), "partner:all", request("/v1/offers"), ok(JSON.stringify({ items: [{ id: foreignPartnerObject }] })), world)[0]).toMatch(/shown another tenant's/);
    expect(accessViolations(op("GET /v1/partners/{partnerId}/statements/{month}"), "partner:purchases:write", request("/v1/partners/{partnerId}/statements/{month}"), ok("{}"), world)[0]).toMatch(/may not succeed/);
  });
});

describe("a fixed-seed sample", () => {
  it(
    `${SAMPLE} requests (seed ${SEED}) across every operation and credential: no 5xx, nothing undeclared or off its schema, no authorization leak`,
    async () => {
      const report = await runFuzz({ seed: SEED, requests: SAMPLE });
      expect(report.sent).toBe(SAMPLE);
      const shown = report.failures.slice(0, 5).map((f) => `#${f.index} ${f.operation} as ${f.role} [${f.mutations}] → ${f.status}: ${f.violations.join("; ")}\n  ${f.request}\n  ${f.answer}`);
      expect(shown, `seed ${SEED}: replay with npm run fuzz -- --seed ${SEED} --from <index> --requests 1`).toEqual([]);
      expect(Object.keys(report.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
      // The sample reaches the logic behind the door, not only the validation in front of it.
      const reached = report.operations.filter((o) => report.successes[o]);
      expect(reached.length, `never 2xx: ${report.operations.filter((o) => !report.successes[o]).join(", ")}`).toBeGreaterThanOrEqual(Math.floor(report.operations.length * 0.85));
      expect(Object.keys(report.statuses)).toEqual(expect.arrayContaining(["400", "401", "403", "404", "413", "415"]));
    },
    240_000,
  );
});
