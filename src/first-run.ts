/** First-run work shared by `npm start`, the CLI and the Worker: keys, admin token, demo seed. */
import { eq } from "drizzle-orm";
import { settings } from "../db/schema.ts";
import type { Deps } from "./deps.ts";
import { ensureAdminToken } from "./services/auth/auth.ts";
import { seedDemo } from "./cli/seed/seed-demo.ts";
import { isoTime } from "./lib/time.ts";

const INSTALLED_AT_KEY = "installed_at";

export interface PreparedInstallation {
  /** Set only on the very first start without ADMIN_TOKEN: print it once, it is never shown again. */
  generatedAdminToken: string | null;
  isNew: boolean;
  seeded: boolean;
}

export async function prepareInstallation(deps: Deps, opts: { seedDemo: boolean; generateAdminToken: boolean }): Promise<PreparedInstallation> {
  const { db } = deps.database;
  const [installed] = await db.select().from(settings).where(eq(settings.key, INSTALLED_AT_KEY));
  await deps.keys.ensure();
  const generatedAdminToken = opts.generateAdminToken ? await ensureAdminToken(deps) : null;
  if (installed) return { generatedAdminToken, isNew: false, seeded: false };
  if (opts.seedDemo) await seedDemo(deps);
  await deps.database.atomic([
    db.insert(settings).values({ key: INSTALLED_AT_KEY, value: isoTime(deps.clock()), updatedAt: deps.clock() }).onConflictDoNothing(),
  ]);
  return { generatedAdminToken, isNew: true, seeded: opts.seedDemo };
}
