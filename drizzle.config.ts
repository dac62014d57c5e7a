import { defineConfig } from "drizzle-kit";

// drizzle-kit writes plain SQL files that both runtimes apply: better-sqlite3 through
// drizzle's migrator (src/node.ts) and D1 through wrangler (migrations_dir in wrangler.toml).
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
