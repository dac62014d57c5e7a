/** Configuration, parsed once by the entry files from their environment. One schema, both runtimes. */
import { z } from "./lib/zod.ts";

const flag = z
  .enum(["0", "1", "true", "false"])
  .transform((value) => value === "1" || value === "true");

export const ConfigSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  DATABASE_PATH: z.string().min(1).default("./data/dangol.db"),
  SEED_DEMO: flag.default(true),
  CLUSTER_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  ADMIN_TOKEN: z.string().min(24, "ADMIN_TOKEN must be at least 24 characters").optional(),
  SIGNING_KEY: z.string().optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  MEMBER_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(30 * 86_400).default(7 * 86_400),
  /** How often the points jobs run on Node (release, expiry, notices, tiers); 0 turns them off. */
  POINTS_JOB_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Rebuild scores, models and segments this often (0: only on demand). */
  RECOMPUTE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(7 * 86_400).default(86_400),
  CARD_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(120).default(90),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parses raw environment values; unknown keys are ignored, empty strings count as unset. */
export function parseConfig(raw: Record<string, unknown>): Config {
  const cleaned = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => typeof value === "string" && value !== ""),
  );
  const result = ConfigSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
