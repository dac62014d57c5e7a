/**
 * The recompute job: reads every member's profile, scores RFM, refits the lifetime-value models
 * (BG/NBD for purchases, Gamma-Gamma for spend), scores each member's P(alive), expected purchases,
 * CLV and lifecycle stage, and writes the scores. Work is linear in members; the models are fitted
 * on distinct histories, not members. Scores are replaced wholesale, so an interrupted run is
 * simply run again.
 */
import { eq, sql } from "drizzle-orm";
import type { RenderedStatement } from "../../../db/database.ts";
import { settings } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { CLV_MONTHLY_DISCOUNT, CLV_MONTHS, fitModels, historiesOf, SCORE_COLUMNS, scoreBase, type Base } from "../../domain/scoring.ts";
import type { BgNbdFit, GammaGammaFit, LifecycleStage } from "../../domain/clv/index.ts";
import { isoTime } from "../../lib/time.ts";
import { currentProgram } from "../program/program.ts";
import { refreshSegments } from "../segments/segments.ts";
import { qualifyingPoints, tierStatements } from "../../store/tiers.ts";

const PAGE = 20_000;

export interface RecomputeSummary {
  members: number;
  buyers: number;
  bgNbd: BgNbdFit | null;
  gammaGamma: GammaGammaFit | null;
  lifecycle: Partial<Record<LifecycleStage, number>>;
  /** Members a royal tier (top N% by spend) upgraded in this run. */
  royalUpgrades: number;
  segmentsRefreshed: number;
  durationMs: number;
}

export type Progress = (step: string, done: number, total: number) => void;

/**
 * Reads a table whole, page by page in rowid order: a plain scan is several times faster than
 * probing three tables per member, and pages keep each result within D1's limits. Rows come as
 * arrays (rowid first), which a million of costs far less than objects.
 */
async function scan(deps: Deps, query: (after: number) => ReturnType<typeof sql>, each: (row: unknown[]) => void) {
  for (let after = 0; ; ) {
    const rows = (await deps.database.db.values(query(after))) as unknown[][];
    for (const row of rows) each(row);
    if (rows.length < PAGE) return;
    after = rows.at(-1)![0] as number;
  }
}

async function readBase(deps: Deps, progress: Progress): Promise<Base> {
  const ids: string[] = [];
  const enrolledAt: number[] = [];
  const tier: string[] = [];
  const requalifyAt: number[] = [];
  await scan(
    deps,
    (after) => sql`SELECT rowid, id, created_at, tier, tier_requalify_at FROM members WHERE rowid > ${after} ORDER BY rowid LIMIT ${PAGE}`,
    ([, id, createdAt, tierCode, requalify]) => {
      ids.push(id as string);
      enrolledAt.push(createdAt as number);
      tier.push(tierCode as string);
      requalifyAt.push(requalify === null ? Number.NaN : (requalify as number));
    },
  );
  const n = ids.length;
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const base: Base = {
    ids,
    enrolledAt,
    tier,
    tierRequalifyAt: Float64Array.from(requalifyAt),
    firstPurchaseAt: new Float64Array(n).fill(Number.NaN),
    firstPurchaseMinor: new Float64Array(n),
    lastPurchaseAt: new Float64Array(n).fill(Number.NaN),
    purchaseDays: new Int32Array(n),
    monetaryMinor: new Float64Array(n),
    previousLifecycle: new Array<string | undefined>(n),
    previousScoredAt: new Float64Array(n).fill(Number.NaN),
  };
  progress("read", 1, 3);
  await scan(
    deps,
    (after) => sql`SELECT rowid, member_id, first_purchase_at, first_purchase_minor, last_purchase_at, purchase_days, monetary_minor
                   FROM member_profiles WHERE rowid > ${after} ORDER BY rowid LIMIT ${PAGE}`,
    ([, memberId, first, firstMinor, last, days, monetary]) => {
      const i = indexOf.get(memberId as string);
      if (i === undefined || first === null || last === null || (days as number) < 1) return;
      base.firstPurchaseAt[i] = first as number;
      base.firstPurchaseMinor[i] = firstMinor as number;
      base.lastPurchaseAt[i] = last as number;
      base.purchaseDays[i] = days as number;
      base.monetaryMinor[i] = monetary as number;
    },
  );
  progress("read", 2, 3);
  // Only the stages that carry over (reactivation) matter from the last run.
  await scan(
    deps,
    (after) => sql`SELECT rowid, member_id, lifecycle, scored_at FROM member_scores
                   WHERE rowid > ${after} AND lifecycle IN ('dormant', 'reactivated') ORDER BY rowid LIMIT ${PAGE}`,
    ([, memberId, lifecycle, scoredAt]) => {
      const i = indexOf.get(memberId as string);
      if (i === undefined) return;
      base.previousLifecycle[i] = lifecycle as string;
      base.previousScoredAt[i] = scoredAt as number;
    },
  );
  progress("read", 3, 3);
  return base;
}


/** The upsert of `rows` score rows in one statement; built once per size (nearly all are full-size). */
const upsertScoresSqlByRows = new Map<number, string>();
function upsertScoresSql(rows: number): string {
  let text = upsertScoresSqlByRows.get(rows);
  if (text === undefined) {
    const placeholders = `(${SCORE_COLUMNS.map(() => "?").join(", ")})`;
    text = `INSERT INTO member_scores (${SCORE_COLUMNS.join(", ")}) VALUES ${Array(rows).fill(placeholders).join(", ")}
            ON CONFLICT (member_id) DO UPDATE SET ${SCORE_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(", ")}`;
    upsertScoresSqlByRows.set(rows, text);
  }
  return text;
}

/**
 * Multi-row upserts of score rows laid end to end in `values` (SCORE_COLUMNS.length each), sized
 * for the driver: D1 binds at most 100 parameters to a statement.
 */
function scoreStatements(driver: "better-sqlite3" | "d1", values: unknown[]): RenderedStatement[] {
  const perStatement = (driver === "d1" ? Math.floor(100 / SCORE_COLUMNS.length) : 500) * SCORE_COLUMNS.length;
  const statements: RenderedStatement[] = [];
  for (let i = 0; i < values.length; i += perStatement) {
    const params = values.slice(i, i + perStatement);
    statements.push({ sql: upsertScoresSql(params.length / SCORE_COLUMNS.length), params });
  }
  return statements;
}

/** The model the last run fitted, as /v1/analytics/clv shows it. */
export interface StoredClvModel {
  bgNbd: BgNbdFit | null;
  gammaGamma: GammaGammaFit | null;
  fittedAt: string;
  buyers: number;
  horizonMonths: number;
  monthlyDiscount: number;
}

const MODEL_KEY = "clv.model";

/** The last run's model (today's fit starts from its parameters), or null before the first run. */
export async function storedClvModel(deps: Deps): Promise<StoredClvModel | null> {
  const [row] = await deps.database.db.select().from(settings).where(eq(settings.key, MODEL_KEY));
  return row ? (JSON.parse(row.value) as StoredClvModel) : null;
}

export async function recompute(deps: Deps, progress: Progress = () => {}): Promise<RecomputeSummary> {
  const started = Date.now();
  const now = deps.clock();
  const base = await readBase(deps, progress);
  const n = base.ids.length;
  const { program } = await currentProgram(deps);
  const tierRank = (code: string) => program.tiers.findIndex((t) => t.code === code);
  const histories = historiesOf(base, now, program.utcOffsetMinutes);
  const buyers = histories.buyerIndexes.length;
  progress("rfm", buyers, buyers);
  const fits = fitModels(base, histories, await storedClvModel(deps));
  progress("fit", buyers, buyers);
  const scored = scoreBase(base, histories, fits, now, program);
  progress("score", n, n);

  // Rows are built and written a few thousand at a time, in member-id order: memory stays flat,
  // and no single commit holds the writer for long.
  const perUnit = deps.database.driver === "d1" ? 400 : 20_000;
  for (let from = 0; from < n; from += perUnit) {
    const unit: unknown[] = [];
    for (let k = from; k < Math.min(n, from + perUnit); k++) unit.push(...scored.row(scored.order[k]!));
    await deps.database.atomic(scoreStatements(deps.database.driver, unit));
    progress("write", Math.min(n, from + perUnit), n);
  }
  const model: StoredClvModel = { ...fits, fittedAt: isoTime(now), buyers, horizonMonths: CLV_MONTHS, monthlyDiscount: CLV_MONTHLY_DISCOUNT };
  await deps.database.atomic([
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${MODEL_KEY}, ${JSON.stringify(model)}, ${now})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ]);
  // Members a royal tier now holds who are below it: upgraded at once, as points would. (Keeping
  // them there at requalification is the points job's, from member_scores.spend_tier.)
  let upgraded = 0;
  for (let i = 0; i < n; i++) {
    const code = scored.spendTierOf.get(base.ids[i]!);
    if (code === undefined || tierRank(base.tier[i]!) >= tierRank(code)) continue;
    const current = { memberId: base.ids[i]!, tier: base.tier[i]!, requalifyAt: Number.isNaN(base.tierRequalifyAt[i]!) ? null : base.tierRequalifyAt[i]! };
    const statements = tierStatements(deps, program, current, await qualifyingPoints(deps, current.memberId), code);
    if (statements.length) {
      await deps.database.atomic(statements);
      upgraded++;
    }
  }
  progress("tiers", upgraded, scored.spendTierOf.size);

  // Segments read the new scores: refreshed last, each after the segments it refers to.
  const { refreshed } = await refreshSegments(deps);
  progress("segments", refreshed.length, refreshed.length);
  return { members: n, buyers, ...fits, lifecycle: scored.lifecycle, royalUpgrades: upgraded, segmentsRefreshed: refreshed.length, durationMs: Date.now() - started };
}

/** A run's summary as flat log fields (no parameters: the model is in settings and /v1/analytics/clv). */
export function recomputeLogFields(summary: RecomputeSummary) {
  return { members: summary.members, buyers: summary.buyers, segments: summary.segmentsRefreshed, durationMs: summary.durationMs, lifecycle: JSON.stringify(summary.lifecycle) };
}
