/**
 * What marketers read about the customer base: the RFM segments from the last recompute, the
 * Pareto view of revenue (the top 20%, the Lorenz curve, Gini), and the lifetime-value model.
 */
import { sql } from "drizzle-orm";
import type { Deps } from "../../deps.ts";
import { lorenzCurve, paretoSummary } from "../../domain/pareto.ts";
import { RFM_SEGMENT_NAMES, RFM_SEGMENTS } from "../../domain/rfm.ts";
import { storedClvModel } from "./recompute.ts";
import { isoTimeOrNull } from "../../lib/time.ts";

export async function rfmAnalytics(deps: Deps) {
  const { db } = deps.database;
  const segments = (await db.all(sql`SELECT rfm_segment AS segment, COUNT(*) AS members, MAX(scored_at) AS scoredAt FROM member_scores WHERE rfm_segment IS NOT NULL GROUP BY rfm_segment`)) as Array<{ segment: string; members: number; scoredAt: number }>;
  const scored = segments.reduce((n, s) => n + s.members, 0);
  const byScore = async (column: "r" | "f" | "m") => {
    const rows = (await db.all(sql`SELECT ${sql.raw(column)} AS score, COUNT(*) AS members FROM member_scores WHERE ${sql.raw(column)} IS NOT NULL GROUP BY 1`)) as Array<{ score: number; members: number }>;
    return [1, 2, 3, 4, 5].map((score) => rows.find((r) => r.score === score)?.members ?? 0);
  };
  return {
    scoredAt: isoTimeOrNull(segments.length ? Math.max(...segments.map((s) => s.scoredAt)) : null),
    scoredMembers: scored,
    segments: RFM_SEGMENTS.map((segment) => {
      const members = segments.find((s) => s.segment === segment)?.members ?? 0;
      return { segment, name: RFM_SEGMENT_NAMES[segment], members, share: scored ? members / scored : 0 };
    }),
    scores: { r: await byScore("r"), f: await byScore("f"), m: await byScore("m") },
  };
}

/** Revenue per member who bought (net of refunds), from the profiles: computed on demand. */
export async function paretoAnalytics(deps: Deps) {
  const rows = (await deps.database.db.all(sql`SELECT MAX(monetary_minor, 0) AS revenue FROM member_profiles WHERE purchase_count > 0`)) as Array<{ revenue: number }>;
  const revenues = Float64Array.from(rows, (r) => r.revenue);
  return { ...paretoSummary(revenues), lorenz: lorenzCurve(revenues, 100) };
}

export async function clvAnalytics(deps: Deps) {
  const { db } = deps.database;
  const model = await storedClvModel(deps);
  const stages = (await db.all(sql`SELECT lifecycle, COUNT(*) AS members, COALESCE(SUM(clv_minor), 0) AS clvMinor FROM member_scores GROUP BY lifecycle`)) as Array<{
    lifecycle: string;
    members: number;
    clvMinor: number;
  }>;
  return {
    model,
    totalClvMinor: stages.reduce((n, s) => n + s.clvMinor, 0),
    lifecycle: stages.sort((a, b) => b.members - a.members),
  };
}
