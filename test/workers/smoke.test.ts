import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("worker", () => {
  it("serves /health from D1", async () => {
    const res = await exports.default.fetch("http://dangol.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", driver: "d1" });
  });
});
