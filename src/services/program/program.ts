/** The program's rules in force, and new versions of them (admin). */
import { desc } from "drizzle-orm";
import { programVersions } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { defaultProgram, type Program, ProgramSchema } from "../../domain/program.ts";
import { invalidField } from "../../errors.ts";
import { auditStatement } from "../../store/audit.ts";
import type { Principal } from "../../domain/principal.ts";
import { isoTime } from "../../lib/time.ts";

export interface ProgramVersion {
  version: number;
  program: Program;
  createdAt: string;
}

function toVersion(row: typeof programVersions.$inferSelect): ProgramVersion {
  return { version: row.version, program: ProgramSchema.parse(JSON.parse(row.config)), createdAt: isoTime(row.createdAt) };
}

// Every purchase needs the rules; reading and validating them each time cost more than the rest
// of its reads. Other processes see a new version within this long; this one at once.
const CACHE_MS = 2_000;
const cached = new WeakMap<object, { at: number; value: ProgramVersion }>();

/** The current version. A new database gets the contract's defaults as version 1. */
export async function currentProgram(deps: Deps): Promise<ProgramVersion> {
  const hit = cached.get(deps.database);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
  const { db } = deps.database;
  const [row] = await db.select().from(programVersions).orderBy(desc(programVersions.version)).limit(1);
  if (row) {
    const value = toVersion(row);
    cached.set(deps.database, { at: Date.now(), value });
    return value;
  }
  await deps.database.atomic([
    db.insert(programVersions).values({ version: 1, config: JSON.stringify(defaultProgram), createdAt: deps.clock(), createdBy: "default" }).onConflictDoNothing(),
  ]);
  return currentProgram(deps);
}

export async function programVersion(deps: Deps, version: number): Promise<Program> {
  const rows = await deps.database.db.select().from(programVersions);
  const row = rows.find((r) => r.version === version);
  if (!row) throw new Error(`program version ${version} is missing`);
  return toVersion(row).program;
}

/** Saves new rules as the next version; purchases made before keep theirs. */
export async function updateProgram(deps: Deps, actor: Principal, program: Program): Promise<ProgramVersion> {
  const current = await currentProgram(deps);
  if (program.currency !== current.program.currency) {
    // Every balance, purchase and statement is in the program's currency.
    throw invalidField("currency", `The program runs in ${current.program.currency}`, "A running program's currency cannot change.");
  }
  const version = current.version + 1;
  await deps.database.atomic([
    deps.database.db.insert(programVersions).values({ version, config: JSON.stringify(program), createdAt: deps.clock(), createdBy: actor.role }),
    auditStatement(deps, actor, "program.update", { type: "program", id: String(version) }),
  ]);
  const value = { version, program, createdAt: isoTime(deps.clock()) };
  cached.set(deps.database, { at: Date.now(), value });
  return value;
}
