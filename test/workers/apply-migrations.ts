import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The same db/migrations the Node side applies with drizzle's migrator.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
