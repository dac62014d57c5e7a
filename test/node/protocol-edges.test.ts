/**
 * Issue 11, finding 8: the edges of HTTP answer like the rest of the API. A wrong method was a
 * 404, an over-long URL got Node's empty 431, and a broken chunked body was logged as an
 * unhandled 500 while the client was told 400.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { removeServerFiles, startServer, type ServerProcess } from "../support/server-process.ts";

/** Writes raw bytes to the server and reads until it closes the connection. */
function raw(base: string, request: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${request.slice(0, 40)}`)));
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { code: string; status: number };

describe("a wrong method", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  it.each([
    ["DELETE", "/v1/members", "GET, HEAD, POST"],
    ["PUT", "/v1/purchases/pur_1/refunds", "POST"],
    ["POST", "/health", "GET, HEAD"],
  ])("%s %s is a 405 naming the methods that are served", async (method, path, allow) => {
    const res = await t.call(method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json()) as object).toMatchObject({ code: "method_not_allowed", status: 405 });
    expect(res.headers.get("allow")!.split(", ").sort()).toEqual(allow.split(", ").sort());
  });

  it("a path nothing serves is still a 404", async () => {
    const res = await t.call("GET", "/v1/nowhere");
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
  });
});

describe("the Node server's refusals before the app", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ SEED_DEMO: "0", ADMIN_TOKEN: "protocol-edges-admin-token-0123456789", LOG_LEVEL: "info" });
  }, 90_000);
  afterAll(async () => {
    await server?.stop("SIGTERM");
    removeServerFiles();
  });

  it("a URL of 20,029 characters gets a problem+json 431", async () => {
    const answer = await raw(server.base, `GET /v1/members?q=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer.startsWith("HTTP/1.1 431 ")).toBe(true);
    expect(answer.toLowerCase()).toContain("content-type: application/problem+json");
    expect(bodyOf(answer)).toMatchObject({ code: "headers_too_large", status: 431 });
  });

  it("bytes that are not HTTP get a problem+json 400", async () => {
    const answer = await raw(server.base, "HELLO\r\n\r\n");
    expect(answer.startsWith("HTTP/1.1 400 ")).toBe(true);
    expect(bodyOf(answer).code).toBe("malformed_request");
  });

  it("a broken chunked body is a 400 for the client and no error in the log", async () => {
    const answer = await raw(
      server.base,
      "POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer protocol-edges-admin-token-0123456789\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"na\r\nZZ\r\nme\r\n0\r\n\r\n",
    );
    expect(answer.startsWith("HTTP/1.1 400 ")).toBe(true);
    // The server is still well and logged nothing at error level.
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    expect(server.stdout()).not.toContain('"level":"error"');
  });
});
