/**
 * Segments at scale: a generated base of MEMBERS members (default 1,000,000) with birth dates,
 * genders, regions, tiers, balances, consents, scores, affinities and about five purchases each,
 * then each rule below previewed (one query: count and sample; the median of three runs) and, for one rule, a segment
 * created (materialised) and refreshed. BENCH_DB=path reuses a generated database.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateSqlite, openSqlite } from "../db/sqlite.ts";
import { parseConfig } from "../src/config.ts";
import { createDeps } from "../src/deps.ts";
import { mulberry32 } from "../src/domain/prng.ts";
import { RFM_SEGMENTS } from "../src/domain/rfm.ts";
import { LIFECYCLE_STAGES, type Rule } from "../src/domain/segments.ts";
import { newId, type RandomBytes } from "../src/lib/ids.ts";
import { createSegment, previewSegment, refreshSegment } from "../src/services/segments/segments.ts";

const MEMBERS = Number(process.env.MEMBERS ?? 1_000_000);
const DAY_MS = 86_400_000;
const NOW = Date.parse("2026-11-01T00:00:00Z");
const PARTNERS = ["prt_BENCH0CINEMA", "prt_BENCH00CAFE", "prt_BENCH00BOOK"];
const CATEGORIES = ["cinema", "cafe", "bookstore"];
const REGIONS = ["서울 강남구", "서울 마포구", "부산 해운대구", "대구 수성구", "경기 성남시"];
const TIERS = ["basic", "basic", "basic", "silver", "silver", "gold", "vip"];
const GENDERS = ["female", "male", "other", "undisclosed"];

function generate(path: string) {
  const database = openSqlite(path);
  migrateSqlite(database);
  const { sqlite } = database;
  sqlite.pragma("synchronous = OFF");
  const rand = mulberry32(20261101);
  const bytes: RandomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  for (const [i, id] of PARTNERS.entries()) sqlite.prepare("INSERT INTO partners (id, name, category, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").run(id, `벤치 ${i}`, CATEGORIES[i], NOW, NOW);
  const member = sqlite.prepare("INSERT INTO members (id, name, phone, birth_date, gender, region, tier, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const balance = sqlite.prepare("INSERT INTO member_balances (member_id, available, updated_at) VALUES (?, ?, ?)");
  const consent = sqlite.prepare("INSERT INTO consents (id, member_id, purpose, channel, granted, source, recorded_at) VALUES (?, ?, 'marketing', ?, 1, 'bench', ?)");
  const interaction = sqlite.prepare("INSERT INTO interactions (id, member_id, kind, channel, partner_id, amount_minor, occurred_at, created_at) VALUES (?, ?, 'purchase', 'store', ?, ?, ?, ?)");
  const profile = sqlite.prepare("INSERT INTO member_profiles (member_id, first_purchase_at, last_purchase_at, purchase_count, purchase_days, monetary_minor, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const affinity = sqlite.prepare("INSERT INTO member_affinities (member_id, subject, purchases, amount_minor, last_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET purchases = purchases + 1, amount_minor = amount_minor + excluded.amount_minor");
  const score = sqlite.prepare("INSERT INTO member_scores (member_id, r, f, m, rfm_segment, p_alive, clv_minor, lifecycle, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  let interactions = 0;
  const insertMany = sqlite.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) {
      const enrolledAt = NOW - Math.floor(rand() * 3 * 365 + 1) * DAY_MS;
      const id = newId("member", enrolledAt, bytes);
      const birth = `${1950 + Math.floor(rand() * 56)}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
      member.run(id, `벤치${n}`, `+8210${String(10_000_000 + n)}`, rand() < 0.9 ? birth : null, pick(GENDERS), pick(REGIONS), pick(TIERS), enrolledAt, enrolledAt);
      balance.run(id, Math.floor(rand() * 20_000), NOW);
      for (const channel of ["email", "sms", "push"]) if (rand() < 0.35) consent.run(newId("consent", enrolledAt, bytes), id, channel, enrolledAt);
      const count = Math.min(100, Math.floor(-Math.log(1 - rand() * 0.9999) * 5));
      if (count === 0) continue;
      const times = Array.from({ length: count }, () => enrolledAt + Math.floor(rand() * (NOW - enrolledAt))).sort((a, b) => a - b);
      let monetary = 0;
      for (const at of times) {
        const amount = Math.round(Math.exp(9 + rand() * 1.5)) * 10;
        const p = Math.floor(rand() * PARTNERS.length);
        monetary += amount;
        interaction.run(newId("interaction", at, bytes), id, PARTNERS[p], amount, at, at);
        affinity.run(id, `partner:${PARTNERS[p]}`, 1, amount, at);
        affinity.run(id, `category:${CATEGORIES[p]}`, 1, amount, at);
        interactions++;
      }
      profile.run(id, times[0], times.at(-1), count, count, monetary, NOW);
      score.run(id, 1 + Math.floor(rand() * 5), 1 + Math.floor(rand() * 5), 1 + Math.floor(rand() * 5), pick(RFM_SEGMENTS), rand(), Math.floor(rand() * 500_000), pick(LIFECYCLE_STAGES), NOW);
    }
  });
  for (let n = 0; n < MEMBERS; n += 50_000) {
    insertMany(n, Math.min(MEMBERS, n + 50_000));
    process.stderr.write(`\rgenerated ${Math.min(MEMBERS, n + 50_000)} members, ${interactions} interactions   `);
  }
  process.stderr.write("\n");
  sqlite.exec("ANALYZE");
  sqlite.close();
}

const rules: Record<string, Rule> = {
  "tier gte gold": { attr: "tier", op: "gte", value: "gold" },
  "women 30–39 with email consent": { all: [{ attr: "age", op: "between", value: [30, 39] }, { attr: "gender", op: "eq", value: "female" }, { attr: "consent.email", op: "eq", value: true }] },
  "champions or loyal, pAlive ≥ 0.5": { all: [{ attr: "rfm.segment", op: "in", value: ["champions", "loyal"] }, { attr: "pAlive", op: "gte", value: 0.5 }] },
  "spendWithin 90 days ≥ ₩100,000": { attr: "spendWithin", days: 90, op: "gte", value: 100_000 },
  "bought at the cinema, never at the café": { all: [{ attr: "boughtAtPartner", op: "eq", value: PARTNERS[0]! }, { not: { attr: "boughtInCategory", op: "eq", value: "cafe" } }] },
  "daysSinceLastPurchase 31–90 in Seoul": { all: [{ attr: "daysSinceLastPurchase", op: "between", value: [31, 90] }, { attr: "region", op: "in", value: ["서울 강남구", "서울 마포구"] }] },
  "a rare one: vip, age 20, clv ≥ 490,000": { all: [{ attr: "tier", op: "eq", value: "vip" }, { attr: "age", op: "eq", value: 20 }, { attr: "clvMinor", op: "gte", value: 490_000 }] },
};

const dir = process.env.BENCH_DB ? null : mkdtempSync(join(tmpdir(), "dangol-segments-"));
const path = process.env.BENCH_DB ?? join(dir!, "bench.db");
try {
  if (!existsSync(path)) generate(path);
  const database = openSqlite(path);
  migrateSqlite(database);
  const deps = createDeps({ config: parseConfig({ ADMIN_TOKEN: "bench-admin-token-0123456789abcdef", LOG_LEVEL: "silent" }), database, clock: () => NOW });
  await deps.keys.ensure();
  const previews: Record<string, { count: number; ms: number }> = {};
  for (const [name, rule] of Object.entries(rules)) {
    await previewSegment(deps, rule); // warm the page cache
    const times: number[] = [];
    let count = 0;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      count = (await previewSegment(deps, rule)).count;
      times.push(performance.now() - started);
    }
    previews[name] = { count, ms: Math.round(times.sort((a, b) => a - b)[1]!) }; // the median of three
  }
  const actor = { role: "admin" as const, staffId: "bench" };
  let started = performance.now();
  const segment = await createSegment(deps, actor, { name: "bench", rule: rules["tier gte gold"]! });
  const createMs = Math.round(performance.now() - started);
  started = performance.now();
  const refresh = await refreshSegment(deps, segment.id);
  const refreshMs = Math.round(performance.now() - started);
  console.log(JSON.stringify({ bench: "segments", members: MEMBERS, previews, create: { members: segment.memberCount, ms: createMs }, refreshUnchanged: { ...refresh, ms: refreshMs } }, null, 1));
  await database.close();
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
