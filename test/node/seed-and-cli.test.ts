/** The demo program and the operator CLI. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isValidLuhn } from "../../src/domain/luhn.ts";
import { toE164 } from "../../src/lib/phone.ts";
import { DEMO_MEMBER_COUNT, seedDemo } from "../../src/cli/seed/seed-demo.ts";
import { createTestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus } from "../helpers/factories.ts";

async function seededSnapshot() {
  const t = await createTestApp();
  await seedDemo(t.deps);
  const rows = t.database.sqlite
    .prepare("SELECT m.id, m.name, m.phone, m.email, m.tier, c.number, c.status FROM members m JOIN cards c ON c.member_id = m.id ORDER BY c.id")
    .all() as Array<{ id: string; name: string; phone: string; email: string | null; number: string; status: string }>;
  return { t, rows };
}

describe("the demo program", () => {
  it("is the same on every run: a Korean coalition with a few hundred carded members", async () => {
    const first = await seededSnapshot();
    const second = await seededSnapshot();
    expect(second.rows).toEqual(first.rows);

    const { t, rows } = first;
    const partners = t.database.sqlite.prepare("SELECT category FROM partners ORDER BY category").all() as { category: string }[];
    expect(partners.map((p) => p.category)).toEqual(["bookstore", "cafe", "cinema", "convenience_store", "gas_station"]);
    const memberIds = new Set(rows.map((r) => r.id));
    expect(memberIds.size).toBe(DEMO_MEMBER_COUNT);
    for (const row of rows) {
      expect(isValidLuhn(row.number)).toBe(true);
      expect(toE164(row.phone)).toBe(row.phone);
    }
    // Every member has a balance row and at most one active card; a few cards were replaced or blocked.
    const balances = t.database.sqlite.prepare("SELECT count(*) AS n FROM member_balances").get() as { n: number };
    expect(balances.n).toBe(DEMO_MEMBER_COUNT);
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses).toEqual(new Set(["active", "blocked", "replaced"]));
  });

  it("has three months of purchases with offers, points, refunds and voids, and a balanced ledger", async () => {
    const { t } = await seededSnapshot();
    const count = (sql: string) => (t.database.sqlite.prepare(sql).get() as { n: number }).n;
    expect(count("SELECT count(*) AS n FROM purchases")).toBeGreaterThan(1_000);
    expect(count("SELECT count(DISTINCT offer_id) AS n FROM purchase_offers")).toBeGreaterThanOrEqual(4);
    expect(count("SELECT count(*) AS n FROM purchases WHERE redeemed_points > 0")).toBeGreaterThan(20);
    expect(count("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'refund'")).toBeGreaterThan(5);
    expect(count("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'void'")).toBeGreaterThan(5);
    expect(count("SELECT count(DISTINCT store_id) AS n FROM purchases")).toBe(9);
    await expectLedgerBalanced(t);
    // Last month's statement of every partner has lines behind it.
    const month = new Date(t.clock.now - 31 * 86_400_000).toISOString().slice(0, 7);
    const partners = t.database.sqlite.prepare("SELECT id FROM partners").all() as { id: string }[];
    for (const { id } of partners) {
      const statement = (await (await expectStatus(await t.call("GET", `/v1/partners/${id}/statements/${month}`), 200)).json()) as { lines: unknown[] };
      expect(statement.lines.length).toBeGreaterThan(10);
    }
  });

  it("serves through the API like any other data", async () => {
    const { t, rows } = await seededSnapshot();
    const active = rows.find((r) => r.status === "active")!;
    const res = await t.call("GET", `/v1/members?q=${active.number.slice(0, 12)}`);
    const page = (await res.json()) as { items: { id: string }[] };
    expect(page.items.map((m) => m.id)).toContain(active.id);
  });
});

describe("npx dangol", () => {
  it("migrates and seeds a database file, printing JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "dangol-cli-"));
    try {
      const env = { ...process.env, DATABASE_PATH: join(dir, "cli.db") };
      const run = (...args: string[]) => execFileSync(process.execPath, ["bin/dangol.js", ...args], { env, encoding: "utf8" });
      expect(JSON.parse(run("migrate", "--json"))).toMatchObject({ ok: true });
      expect(JSON.parse(run("seed-demo", "--json"))).toMatchObject({ ok: true, partners: 5, members: DEMO_MEMBER_COUNT, stores: 9, offers: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
