/** The real process: what `npm start` prints and serves, a cluster on one file, a clean stop. */
import { afterAll, describe, expect, it } from "vitest";
import { removeServerFiles, startServer } from "../support/server-process.ts";

afterAll(removeServerFiles);

describe("the Node server", () => {
  it("prints the admin token once, serves health, docs, OpenAPI and JWKS, and stops cleanly", async () => {
    const server = await startServer({ SEED_DEMO: "1" });
    try {
      const token = /(dg_admin_[\w-]+)/.exec(server.stdout())?.[1];
      expect(token).toBeDefined();
      expect(server.stdout()).toContain(`${server.base}/docs`);

      expect(await (await fetch(`${server.base}/health`)).json()).toMatchObject({ status: "ok", driver: "better-sqlite3" });
      const docs = await fetch(`${server.base}/docs`);
      expect(docs.status).toBe(200);
      const html = await docs.text();
      expect(html).toContain("swagger-ui");
      // Served from the installed package: the docs work without a network.
      expect((await fetch(`${server.base}/docs/swagger-ui-bundle.js`)).status).toBe(200);
      const spec = (await (await fetch(`${server.base}/openapi.json`)).json()) as { openapi: string; paths: object };
      expect(spec.openapi).toBe("3.1.0");
      expect(Object.keys(spec.paths)).toContain("/v1/cards/verify");
      const jwks = (await (await fetch(`${server.base}/.well-known/jwks.json`)).json()) as { keys: { crv: string }[] };
      expect(jwks.keys[0]!.crv).toBe("Ed25519");

      // Over the wire a body declares its length: over 64 KiB is refused before it is read.
      const huge = await fetch(`${server.base}/v1/auth/member/start`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: `${"a".repeat(70_000)}@example.com` }) });
      expect(huge.status).toBe(413);
      expect(((await huge.json()) as { code: string }).code).toBe("payload_too_large");

      // The printed token is the admin's, and the demo program is there.
      const members = await fetch(`${server.base}/v1/members?limit=100`, { headers: { authorization: `Bearer ${token}` } });
      expect(members.status).toBe(200);
      expect(((await members.json()) as { items: unknown[] }).items).toHaveLength(100);
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }

    // A second start on the same file neither prints a new token nor seeds again.
    const again = await startServer({ SEED_DEMO: "1" }, server.databasePath);
    try {
      expect(again.stdout()).not.toContain("dg_admin_");
      expect(again.stdout()).not.toContain("seeded");
    } finally {
      expect(await again.stop("SIGINT")).toBe(0);
    }
  });

  it("serves from several processes on one database file", async () => {
    const server = await startServer({ CLUSTER_WORKERS: "2", SEED_DEMO: "0", ADMIN_TOKEN: "cluster-admin-token-0123456789" });
    try {
      const auth = { authorization: "Bearer cluster-admin-token-0123456789", "content-type": "application/json" };
      // Writes through whichever process answers, all landing in the one file.
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(`${server.base}/v1/members`, { method: "POST", headers: auth, body: JSON.stringify({ name: `회원${i}`, email: `c${i}@example.com` }) }),
        ),
      );
      expect(created.map((r) => r.status)).toEqual(Array(20).fill(201));
      const list = (await (await fetch(`${server.base}/v1/members?limit=100`, { headers: auth })).json()) as { items: unknown[] };
      expect(list.items).toHaveLength(20);
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  });
});

describe("the scheduled points jobs in a cluster", () => {
  it("run in one worker, and in another once that one dies", async () => {
    const server = await startServer({ CLUSTER_WORKERS: "2", SEED_DEMO: "0", POINTS_JOB_INTERVAL_SECONDS: "1", LOG_LEVEL: "info", ADMIN_TOKEN: "cluster-admin-token-0123456789" });
    const jobPids = () => [...server.stdout().matchAll(/"msg":"points jobs","pid":(\d+)/g)].map((m) => Number(m[1]));
    const waitFor = async (done: () => boolean) => {
      for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(done()).toBe(true);
    };
    try {
      await waitFor(() => jobPids().length >= 2);
      const first = new Set(jobPids());
      expect(first.size).toBe(1);
      const [pid] = [...first];
      process.kill(pid!, "SIGKILL");
      await waitFor(() => jobPids().some((p) => p !== pid));
      expect(new Set(jobPids().filter((p) => p !== pid)).size).toBe(1);
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  });
});
