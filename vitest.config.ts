import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// One suite, two runtimes: Node (better-sqlite3) and workerd (D1), as hono keeps one project each.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts", "test/unit/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            main: "./src/worker.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              compatibilityFlags: ["nodejs_compat"],
              d1Databases: { DB: "dangol-test" },
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("./db/migrations"),
                ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
                LOG_LEVEL: "silent",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["./test/workers/apply-migrations.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
