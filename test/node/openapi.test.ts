/** The generated contract: every operation declares its errors; cross-cutting headers hold. */
import { describe, expect, it } from "vitest";
import { errorCodes } from "../../src/errors.ts";
import { createTestApp } from "../helpers/app.ts";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>;
  components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }>; securitySchemes: Record<string, unknown> };
};

describe("the OpenAPI document", () => {
  it("is 3.1, declares problem+json for 400 and 500 on every operation and 401/403 wherever a credential is needed", async () => {
    const t = await createTestApp();
    const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));
    expect(operations.length).toBeGreaterThan(25);
    for (const { id, op } of operations) {
      if (id === "GET /health" || id === "GET /.well-known/jwks.json") continue; // cannot fail on input
      const required = op.security ? ["400", "401", "403", "500"] : ["400", "500"];
      for (const status of required) {
        const schema = op.responses[status]?.content?.["application/problem+json"]?.schema;
        expect(schema?.$ref, `${id} declares ${status}`).toBe("#/components/schemas/Problem");
      }
    }
    expect(doc.components.schemas.Problem!.properties.code!.enum).toEqual(errorCodes);
  });

  it("declares 431 on every operation and 413 on every one that may carry a body (issue 11, finding 8)", async () => {
    const t = await createTestApp();
    const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as Doc;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toContain("431");
        if (method !== "get") expect(Object.keys(op.responses), `${method} ${path}`).toContain("413");
      }
    }
  });
});

describe("every response", () => {
  it("carries secure headers and a request id; unknown routes are problem+json 404s", async () => {
    const t = await createTestApp();
    const res = await t.call("GET", "/v1/nowhere", { token: null });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toContain("max-age");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    const body = (await res.json()) as { code: string; requestId: string };
    expect(body.code).toBe("not_found");
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  });
});

describe("operations that take a body", () => {
  it("declare the body limit (413) and the JSON content type (415)", async () => {
    const t = await createTestApp();
    const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    const withBody = Object.values(doc.paths).flatMap((ops) => Object.values(ops).filter((op) => op.requestBody));
    expect(withBody.length).toBeGreaterThanOrEqual(10);
    for (const op of withBody) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["413", "415"]));
  });
});

describe("the document's patterns (issue 11, finding 6)", () => {
  it("every pattern is a regular expression a validating client can compile, and the text fields take real receipt ids", async () => {
    const t = await createTestApp();
    const text = await (await t.call("GET", "/openapi.json", { token: null })).text();
    const patterns = [...new Set([...text.matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string))];
    expect(patterns.length).toBeGreaterThan(3);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.toMatch(/\/[a-z]*$/);
      // As ajv (and most JSON Schema validators) compile a pattern: ECMA-262 with the u flag.
      expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
    }
    // A purchase body as the README writes it passes the published receiptId and storeId patterns.
    const receipt = patterns.filter((p) => p.includes("\\u0000"));
    expect(receipt.length).toBeGreaterThan(0);
    for (const pattern of receipt) {
      for (const value of ["R-20260302-0001", "sto_01JD0000000000000000000000", "김밥 1줄"]) expect(new RegExp(pattern, "u").test(value), `${pattern} ${value}`).toBe(true);
      expect(new RegExp(pattern, "u").test("a\u0000b")).toBe(false);
    }
  });
});

describe("the Idempotency-Key", () => {
  it("is documented on every operation that moves points, and only there", async () => {
    const t = await createTestApp();
    const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    const keyed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.parameters?.some((p) => p.in === "header" && p.name === "idempotency-key"))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(keyed.sort()).toEqual(["POST /v1/members/{memberId}/adjustments", "POST /v1/purchases", "POST /v1/purchases/{purchaseId}/refunds", "POST /v1/purchases/{purchaseId}/void"]);
  });
});

describe("the route inventory", () => {
  /** Served but not operations of the API: the document itself and the Swagger UI that renders it. */
  const UNDOCUMENTED = ["GET /openapi.json", "GET /docs", "GET /docs/init.js", "GET /docs/{asset}"];

  it("the app serves exactly the operations its document lists, and the named few pages beside them", async () => {
    const t = await createTestApp();
    const doc = (await (await t.call("GET", "/openapi.json", { token: null })).json()) as Doc;
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    // Hono's paths (`/v1/members/:memberId`, `/docs/:asset{a|b}`) in the document's spelling; ALL entries are middleware.
    const served = t.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
    expect([...new Set(served)].sort()).toEqual([...documented, ...UNDOCUMENTED].sort());
  });
});
