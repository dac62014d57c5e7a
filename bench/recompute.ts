/**
 * Recompute at scale: a generated base of MEMBERS members (default 1,000,000) and about ten
 * purchases each (about 10,000,000 interactions) with four segments a marketer would keep, then
 * `recompute` (which ends by refreshing them) in a process of its own, timed, with its peak RSS; and
 * the cost the incremental profile update adds to each purchase.
 * Targets: full recompute ≤ 20 s and peak RSS ≤ 1.5 GB on this 2-core machine.
 * BENCH_DB=path reuses a generated database (generating takes a few minutes).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateSqlite, openSqlite } from "../db/sqlite.ts";
import { mulberry32 } from "../src/domain/prng.ts";
import type { Rule } from "../src/domain/segments.ts";
import { newId, type RandomBytes } from "../src/lib/ids.ts";

const MEMBERS = Number(process.env.MEMBERS ?? 1_000_000);
// Purchase rates: gamma(shape 1.2, scale 1/25 per day), about one purchase every three weeks;
// dropout after a purchase: beta(1, 12). About ten purchases a member on average.
const RATE_SHAPE = 1.2;
const RATE_SCALE_DAYS = 25;
const DROPOUT_A = 1;
const DROPOUT_B = 12;
const DAY_MS = 86_400_000;
const KST_MS = 9 * 3_600_000;
const NOW = Date.parse("2026-11-01T00:00:00Z");
const ENROLMENT_SPAN_MS = 3 * 365 * DAY_MS;

function generate(path: string) {
  const database = openSqlite(path);
  migrateSqlite(database);
  const { sqlite } = database;
  // Generation only: durability is not what is measured here.
  sqlite.pragma("synchronous = OFF");
  const rand = mulberry32(20261122);
  const bytes: RandomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const member = sqlite.prepare("INSERT INTO members (id, name, phone, tier, created_at, updated_at) VALUES (?, ?, ?, 'basic', ?, ?)");
  const interaction = sqlite.prepare("INSERT INTO interactions (id, member_id, kind, channel, amount_minor, occurred_at, created_at) VALUES (?, ?, 'purchase', 'store', ?, ?, ?)");
  const profile = sqlite.prepare(
    `INSERT INTO member_profiles (member_id, first_purchase_at, first_purchase_minor, last_purchase_at, purchase_count, purchase_days, monetary_minor, interaction_count, last_interaction_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let interactions = 0;
  // Customers as BG/NBD describes them: each buys at their own Poisson rate (gamma across members)
  // and may drop out after any purchase (beta across members), so the fit has something to find.
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * Math.pow(rand(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = rand();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const insertMany = sqlite.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) {
      // Enrolments spread evenly over three years, in order: a live base stores members as they
      // join, so its rowid order is its id order (and joins on member id walk both in step).
      const enrolledAt = NOW - ENROLMENT_SPAN_MS + Math.floor((n * ENROLMENT_SPAN_MS) / MEMBERS);
      const id = newId("member", enrolledAt, bytes);
      member.run(id, `벤치${n}`, `+8210${String(10_000_000 + n)}`, enrolledAt, enrolledAt);
      const perDay = gamma(RATE_SHAPE) / RATE_SCALE_DAYS;
      const dropout = ((g) => g / (g + gamma(DROPOUT_B)))(gamma(DROPOUT_A));
      const times: number[] = [];
      for (let at = enrolledAt + (-Math.log(1 - rand()) / perDay) * DAY_MS; at < NOW; at += (-Math.log(1 - rand()) / perDay) * DAY_MS) {
        times.push(Math.floor(at));
        if (times.length >= 400 || rand() < dropout) break;
      }
      if (times.length === 0) continue;
      const days = new Set<number>();
      let monetary = 0;
      let firstMinor = 0;
      // Each member has their own typical basket (gamma), as the spend model assumes.
      const basket = 3_000 + gamma(3) * 4_000;
      times.forEach((at, i) => {
        const amount = Math.round((basket * gamma(6)) / 6 / 10) * 10;
        if (i === 0) firstMinor = amount;
        monetary += amount;
        days.add(Math.floor((at + KST_MS) / DAY_MS));
        interaction.run(newId("interaction", at, bytes), id, amount, at, at);
        interactions++;
      });
      profile.run(id, times[0], firstMinor, times.at(-1), times.length, days.size, monetary, times.length, times.at(-1), NOW);
    }
  });
  for (let n = 0; n < MEMBERS; n += 50_000) {
    insertMany(n, Math.min(MEMBERS, n + 50_000));
    process.stderr.write(`\rgenerated ${Math.min(MEMBERS, n + 50_000)} members, ${interactions} interactions   `);
  }
  process.stderr.write("\n");
  database.sqlite.close();
  return interactions;
}

/** Segments a marketer would keep, refreshed at the end of every recompute. */
const SEGMENTS: Array<{ name: string; rule: Rule }> = [
  { name: "Champions", rule: { attr: "rfm.segment", op: "eq", value: "champions" } },
  { name: "At risk", rule: { attr: "lifecycle", op: "eq", value: "at_risk" } },
  { name: "Top CLV (₩200,000 or more in 12 months)", rule: { attr: "clvMinor", op: "gte", value: 200_000 } },
  { name: "Bought in the last 30 days", rule: { attr: "daysSinceLastPurchase", op: "lt", value: 30 } },
];

/**
 * Saves the SEGMENTS a base lacks (a new one, or a kept one from before they were added), each
 * materialised as it is created; returns how many and how long that took.
 */
async function saveSegments(path: string) {
  const { createDeps } = await import("../src/deps.ts");
  const { parseConfig } = await import("../src/config.ts");
  const { createSegment } = await import("../src/services/segments/segments.ts");
  const database = openSqlite(path);
  migrateSqlite(database);
  const deps = createDeps({ config: parseConfig({ ADMIN_TOKEN: "bench-admin-token-0123456789abcdef", LOG_LEVEL: "silent" }), database });
  const saved = new Set(database.sqlite.prepare("SELECT name FROM segments").pluck().all());
  const missing = SEGMENTS.filter((segment) => !saved.has(segment.name));
  const started = performance.now();
  for (const segment of missing) await createSegment(deps, { role: "admin", staffId: "bench" }, segment);
  const seconds = +((performance.now() - started) / 1000).toFixed(1);
  await database.close();
  return { saved: missing.length, seconds };
}

/** Recompute in a process of its own, so its peak RSS is its own. */
function recomputeIn(path: string) {
  const script = `
    const { openNodeDeps } = await import("./src/node.ts");
    const { parseConfig } = await import("./src/config.ts");
    const { recompute } = await import("./src/services/analytics/recompute.ts");
    const { migrateSqlite } = await import("./db/sqlite.ts");
    const { deps, database } = openNodeDeps(parseConfig({ DATABASE_PATH: ${JSON.stringify(path)}, ADMIN_TOKEN: "bench-admin-token-0123456789abcdef", LOG_LEVEL: "silent" }));
    // A kept database (BENCH_DB) may predate the latest migrations.
    migrateSqlite(database);
    const started = performance.now();
    // Seconds from the start to the end of each step, to show where the time goes.
    const steps = {};
    const summary = await recompute(deps, (step) => (steps[step] = +((performance.now() - started) / 1000).toFixed(2)));
    const seconds = (performance.now() - started) / 1000;
    const segments = Object.fromEntries(database.sqlite.prepare("SELECT name, member_count FROM segments ORDER BY id").raw().all());
    await database.close();
    console.log(JSON.stringify({ seconds, steps, segments, members: summary.members, buyers: summary.buyers, lifecycle: summary.lifecycle, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  `;
  return JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 20 }).trim().split("\n").at(-1)!);
}

/** What the profile statements add to a purchase's unit: the same three statements, timed alone. */
async function profileUpdateCost(path: string) {
  const { createDeps } = await import("../src/deps.ts");
  const { parseConfig } = await import("../src/config.ts");
  const { purchaseProfileStatements } = await import("../src/store/profiles.ts");
  const database = openSqlite(path);
  const deps = createDeps({ config: parseConfig({ ADMIN_TOKEN: "bench-admin-token-0123456789abcdef", LOG_LEVEL: "silent" }), database, clock: () => NOW });
  const ids = database.sqlite.prepare("SELECT member_id FROM member_profiles LIMIT 20000").pluck().all() as string[];
  const units = ids.map((memberId, i) =>
    purchaseProfileStatements(deps, { memberId, partnerId: "prt_bench", partnerCategory: "cafe", at: NOW + i, amountMinor: 5_000, pointsEarned: 50, pointsSpent: 0, offersUsed: 0, utcOffsetMinutes: 540 }),
  );
  const started = performance.now();
  for (let i = 0; i < units.length; i += 500) await Promise.all(units.slice(i, i + 500).map((statements) => database.atomic(statements)));
  const microseconds = ((performance.now() - started) * 1000) / units.length;
  await database.close();
  return Math.round(microseconds);
}

const existing = process.env.BENCH_DB;
const dir = existing ? null : mkdtempSync(join(tmpdir(), "dangol-recompute-"));
const path = existing ?? join(dir!, "bench.db");
try {
  const interactions = existing && existsSync(existing) ? null : generate(path);
  const segmentsSaved = await saveSegments(path);
  const run = recomputeIn(path);
  console.log(
    JSON.stringify({
      bench: "recompute",
      members: run.members,
      buyers: run.buyers,
      interactions,
      recomputeSeconds: +run.seconds.toFixed(1),
      stepsEndAtSeconds: run.steps,
      segmentsSaved,
      segmentMembers: run.segments,
      peakRssMiB: run.peakRssMiB,
      profileUpdatePerPurchaseMicroseconds: await profileUpdateCost(path),
      lifecycle: run.lifecycle,
      targets: { recomputeSeconds: 20, peakRssMiB: 1536 },
    }),
  );
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
