/** `npx dangol import` and `clv fit --from-db`, run as operators run them, against database files. */
import Database from "better-sqlite3";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ClvFitReport } from "../../src/domain/clv/fit.ts";
import type { MemberImportReport } from "../../src/services/imports/members.ts";
import type { TransactionImportReport } from "../../src/services/imports/transactions.ts";
import { loadRawPurchases } from "../helpers/cdnow.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), "dangol-import-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, lines: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n"));
  return path;
};

/** Runs the CLI against one database file; never rejects, so runs can start before the tests that await them. */
function dangol(database: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, DATABASE_PATH: database, LOG_LEVEL: "silent" };
    execFile(process.execPath, ["bin/dangol.js", ...args], { encoding: "utf8", env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function json<T>(run: Run): T {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const query = <T>(database: string, sql: string, ...params: unknown[]) => {
  const db = new Database(database, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
};
const memberOf = (database: string, externalId: string) =>
  query<{ id: string }>(database, "SELECT member_id AS id FROM interactions WHERE source = 'import:members' AND external_id = ?", externalId)[0]?.id;

// A CRM export: good members, bad ones, duplicates, a quoted comma, a shifted row, a blank line.
const crm = file("members.csv", [
  "member_id,name,email,phone,birth_date,gender,region",
  "c1,김민준,minjun@example.com,010-1234-5678,1991-04-12,M,서울 강남구",
  "c2,Lee Seoyeon,SEOYEON@example.com,,1988.02.30,여,부산",
  "c3,Park Jiwoo,not-an-email,010-9876-5432,,,",
  "c4,Choi,,,1990-01-01,F,",
  "c1,Kim again,other@example.com,,,,",
  "c5,Jung,minjun@example.com,,,,",
  "c6,,nameless@example.com,,,,",
  '"c7","Kang, Hana",hana@example.com,+82 10 5555 1234,1995-07-01,female,대구',
  "c8,Yoon,yoon@example,12345,,,",
  "c9,Shift, Broken,x@example.com,,,,",
  "",
  "c10,Han,han@example.com,01055556666,,other,",
]);
// A second export, its columns in another order: contact data other members already have.
const later = file("later.csv", ["id,name,phone,email", "n1,New One,010-1234-5678,", "n2,New Two,,seoyeon@EXAMPLE.com", "n3,New Three,,new3@example.com"]);
// Receipts of imported members, out of date order, with an unknown member and a reused receipt id.
const receipts = file("receipts.csv", [
  "member,receipt,date,amount",
  "c1,r1,2026-03-01,5000",
  "c1,r2,2026-01-01,1000",
  "c1,r3,2026-01-01,2000",
  "c1,r4,2026-02-01T23:30:00+09:00,3000",
  "zz,r5,2026-01-05,100",
  "c3,r2,2026-01-09,100",
  "c3,r6,2026-01-09,12.5",
]);
// The member data behind one of CDNOW's ids, arriving after its history.
const cdnowMember = file("cdnow-member.csv", ["member_id,name,email", "00004,Real Customer,real4@example.com"]);
const streamed = file("streamed.csv", ["member,receipt,date,amount", "c7,s1,2026-02-01,100", "c7,s2,2026-01-01,100", "c10,s3,2026-01-01,100"]);

const crmDb = join(dir, "crm.db");
const cdnowDb = join(dir, "cdnow.db");
const cdnowImport = ["import", "transactions", "test/fixtures/cdnow/CDNOW_sample.txt", "--no-header", "--id-col", "1", "--date-col", "3", "--amount-col", "5"];
const cdnowFlags = [...cdnowImport.slice(3), "--currency-scale", "100", "--create-members", "--json"];

// Each chain starts now, the chains in parallel; each test awaits the runs it reads.
const crmRuns = (async () => {
  await dangol(crmDb, "migrate");
  const first = await dangol(crmDb, "import", "members", crm, "--json");
  const [again, second, bought, streamedIn] = await Promise.all([
    dangol(crmDb, "import", "members", crm, "--json"),
    dangol(crmDb, "import", "members", later, "--json"),
    dangol(crmDb, "import", "transactions", receipts, "--txn-id-col", "receipt", "--channel", "web", "--json"),
    dangol(crmDb, "import", "transactions", streamed, "--txn-id-col", "receipt", "--sorted", "--json"),
  ]);
  const [boughtAgain, readable] = await Promise.all([
    dangol(crmDb, "import", "transactions", receipts, "--txn-id-col", "receipt", "--channel", "web", "--json"),
    dangol(crmDb, "import", "members", crm),
  ]);
  return { first, again, second, bought, streamedIn, boughtAgain, readable };
})();
const cdnowRuns = (async () => {
  await dangol(cdnowDb, "migrate");
  const imported = await dangol(cdnowDb, ...cdnowImport.slice(0, 3), ...cdnowFlags);
  const [fit, again, completed] = await Promise.all([
    dangol(cdnowDb, "clv", "fit", "--from-db", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--currency-scale", "100", "--json"),
    dangol(cdnowDb, ...cdnowImport.slice(0, 3), ...cdnowFlags),
    dangol(cdnowDb, "import", "members", cdnowMember, "--json"),
  ]);
  return { imported, fit, again, completed };
})();

describe("dangol import members", () => {
  it("imports the good lines and reports rejected ones, duplicates and warnings by line number", async () => {
    const report = json<MemberImportReport>((await crmRuns).first);
    expect(report).toMatchObject({ lines: 13, records: 11, imported: 5, completed: 0, alreadyImported: 0 });
    expect(report.rejected).toEqual({
      count: 4,
      lines: [
        { line: 5, reason: "no valid email or phone: no email, no phone" },
        { line: 8, reason: "empty name" },
        { line: 10, reason: 'no valid email or phone: email "yoon@example" is not an email address, phone "12345" is not a phone number' },
        { line: 11, reason: "8 fields, the header has 7 (a comma in an unquoted field?)" },
      ],
    });
    expect(report.duplicates).toEqual({
      count: 2,
      lines: [
        { line: 6, reason: 'member id "c1" already on line 2' },
        { line: 7, reason: "email minjun@example.com already on line 2" },
      ],
    });
    expect(report.warnings.lines).toEqual([
      { line: 3, reason: 'birth date "1988.02.30" is not a date from 1900 to today: left out' },
      { line: 4, reason: 'email "not-an-email" is not an email address: imported with the phone only' },
    ]);
  });

  it("measures data quality: the share of records with neither a valid email nor a valid phone", async () => {
    const { dataQuality } = json<MemberImportReport>((await crmRuns).first);
    // Lines 5 (nothing), 10 (both invalid) and 11 (shifted: "Broken" and an email in the phone column).
    expect(dataQuality).toEqual({ withoutValidContact: 3, rate: 3 / 11, invalidEmails: 3, invalidPhones: 2, noContactGiven: 1 });
  });

  it("stores members as enrolment does: normalised contacts, the valid fields, an enrolment carrying the file's id", async () => {
    await crmRuns;
    const rows = query<Record<string, unknown>>(crmDb, "SELECT name, email, phone, birth_date, gender, region FROM members WHERE id = ?", memberOf(crmDb, "c1"));
    expect(rows).toEqual([{ name: "김민준", email: "minjun@example.com", phone: "+821012345678", birth_date: "1991-04-12", gender: "male", region: "서울 강남구" }]);
    const [c2] = query<Record<string, unknown>>(crmDb, "SELECT name, email, birth_date, gender FROM members WHERE id = ?", memberOf(crmDb, "c2"));
    expect(c2).toEqual({ name: "Lee Seoyeon", email: "seoyeon@example.com", birth_date: null, gender: "female" });
    const [c7] = query<Record<string, unknown>>(crmDb, "SELECT name, phone FROM members WHERE id = ?", memberOf(crmDb, "c7"));
    expect(c7).toEqual({ name: "Kang, Hana", phone: "+821055551234" });
    const enrolments = query<{ kind: string; attributes: string }>(crmDb, "SELECT kind, attributes FROM interactions WHERE source = 'import:members' AND external_id = 'c7'");
    expect(enrolments).toEqual([{ kind: "enrolment", attributes: JSON.stringify({ file: "members.csv", line: 9 }) }]);
    for (const id of ["c1", "c2", "c3", "c7", "c10"]) {
      const [balance] = query(crmDb, "SELECT available FROM member_balances WHERE member_id = ?", memberOf(crmDb, id));
      expect(balance).toEqual({ available: 0 });
    }
  });

  it("enrols nobody twice when the same file is imported again", async () => {
    const { again } = await crmRuns;
    const report = json<MemberImportReport>(again);
    expect(report).toMatchObject({ records: 11, imported: 0, alreadyImported: 5 });
    // The file's own problems are still reported, the same way.
    expect(report.rejected.lines.map((r) => r.line)).toEqual([5, 8, 10, 11]);
    expect(report.duplicates.lines.map((r) => r.line)).toEqual([6, 7]);
    const ids = query<{ n: number }>(crmDb, "SELECT count(*) AS n FROM interactions WHERE source = 'import:members'");
    expect(ids).toEqual([{ n: 6 }]); // c1, c2, c3, c7, c10 and n3 of the second file
  });

  it("calls an email or phone another member already has a duplicate, naming that member", async () => {
    const report = json<MemberImportReport>((await crmRuns).second);
    expect(report).toMatchObject({ records: 3, imported: 1 });
    expect(report.duplicates.lines).toEqual([
      { line: 2, reason: `phone +821012345678 is already member ${memberOf(crmDb, "c1")}'s` },
      { line: 3, reason: `email seoyeon@example.com is already member ${memberOf(crmDb, "c2")}'s` },
    ]);
  });

  it("prints a readable report without --json", async () => {
    const { code, stdout, stderr } = (await crmRuns).readable;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("members.csv: 13 lines, 11 records: 0 imported, 5 already imported, 2 duplicates, 4 rejected, 2 warnings");
    expect(stdout).toContain("  line 6: duplicate: member id \"c1\" already on line 2");
    expect(stdout).toContain("data quality: 3 of 11 records (27.3%) have no valid email or phone");
  });
});

describe("dangol import transactions", () => {
  it("writes purchases of imported members with their key, and reports unknown members, reused ids and bad amounts", async () => {
    const report = json<TransactionImportReport>((await crmRuns).bought);
    expect(report).toMatchObject({ lines: 8, records: 7, imported: 4, alreadyImported: 0, membersCreated: 0, amountMinor: 11_000, order: "sorted in memory" });
    expect(report.rejected.lines).toEqual([
      { line: 6, reason: 'no member imported with id "zz" (import members first, or --create-members)' },
      { line: 8, reason: "amount 12.5 has more decimals than --currency-scale 1 makes whole minor units of" },
    ]);
    expect(report.duplicates.lines).toEqual([{ line: 7, reason: 'transaction id "r2" already on line 3' }]);
    const rows = query<Record<string, unknown>>(crmDb, "SELECT channel, reference, external_id, points FROM interactions WHERE source = 'import:transactions' AND reference = 'r4'");
    expect(rows).toEqual([{ channel: "web", reference: "r4", external_id: "r4", points: null }]);
  });

  it("sorts each member's lines by date, so the profile counts purchase days as a till's purchases would", async () => {
    await crmRuns;
    const local = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) - 540 * 60_000; // the program's default +09:00
    const [profile] = query<Record<string, number>>(
      crmDb,
      "SELECT purchase_count, purchase_days, monetary_minor, first_purchase_at, first_purchase_minor, last_purchase_at, points_earned FROM member_profiles WHERE member_id = ?",
      memberOf(crmDb, "c1"),
    );
    // 01-01 twice (1,000 then 2,000, in line order), 02-01 (written with a time: its date counts), 03-01.
    expect(profile).toEqual({
      purchase_count: 4,
      purchase_days: 3,
      monetary_minor: 11_000,
      first_purchase_at: local(2026, 1, 1),
      first_purchase_minor: 1_000,
      last_purchase_at: local(2026, 3, 1),
      points_earned: 0,
    });
    // History earns nothing: no ledger rows.
    expect(query(crmDb, "SELECT count(*) AS n FROM ledger_transactions")).toEqual([{ n: 0 }]);
  });

  it("with --sorted, streams the file and refuses a line dated before the same member's previous one", async () => {
    const report = json<TransactionImportReport>((await crmRuns).streamedIn);
    expect(report).toMatchObject({ imported: 2, order: "input order" });
    expect(report.rejected.lines).toEqual([
      { line: 3, reason: "dated before line 2 of the same member: streaming needs each member's lines in date order (import without --sorted to sort the file)" },
    ]);
  });

  it("writes nothing twice when the same file is imported again", async () => {
    const report = json<TransactionImportReport>((await crmRuns).boughtAgain);
    expect(report).toMatchObject({ imported: 0, alreadyImported: 4, amountMinor: 0 });
    const [profile] = query<{ purchase_count: number }>(crmDb, "SELECT purchase_count FROM member_profiles WHERE member_id = ?", memberOf(crmDb, "c1"));
    expect(profile?.purchase_count).toBe(4);
  });
});

describe("the raw CDNOW log imported, then fitted from the database", () => {
  it("imports 6,919 purchases of 2,357 placeholder members, $244,091.94 in cents", async () => {
    const report = json<TransactionImportReport>((await cdnowRuns).imported);
    expect(report).toMatchObject({ records: 6919, imported: 6919, membersCreated: 2357, amountMinor: 24_409_194, rejected: { count: 0 }, firstPurchaseDate: "1997-01-01", lastPurchaseDate: "1998-06-30" });
    const [member] = query<{ name: string; email: string; phone: string | null }>(cdnowDb, "SELECT name, email, phone FROM members WHERE id = ?", memberOf(cdnowDb, "00021"));
    expect(member?.name).toBe("Imported 00021");
    expect(member?.email).toMatch(/^mem_[0-9a-z]{26}@import\.invalid$/);
  });

  it("keeps every member's profile equal to its history: purchase days are the distinct dates of the raw log", async () => {
    await cdnowRuns;
    const days = new Map<string, Set<number>>();
    for (const p of loadRawPurchases()) days.set(p.masterId, (days.get(p.masterId) ?? new Set()).add(p.at));
    const profiles = query<{ externalId: string; purchaseDays: number }>(
      cdnowDb,
      `SELECT i.external_id AS externalId, p.purchase_days AS purchaseDays FROM member_profiles p
       JOIN interactions i ON i.member_id = p.member_id AND i.source = 'import:members'`,
    );
    expect(profiles).toHaveLength(2357);
    for (const { externalId, purchaseDays } of profiles) expect(purchaseDays, externalId).toBe(days.get(externalId)?.size);
  });

  it("reproduces the file's fit: BG/NBD r 0.2426, α 4.4137, a 0.7930, b 2.4260, LL −9582.43; Gamma-Gamma p 6.25, q 3.74, γ 15.44", async () => {
    const report = json<ClvFitReport>((await cdnowRuns).fit);
    const threeDigits = (n: number) => Number(n.toPrecision(3));
    expect(report).toMatchObject({ lines: 6919, transactions: 6919, customers: 2357, unit: "week", firstPurchaseDate: "1997-01-01", calibrationEnd: "1997-09-30", holdoutEnd: "1998-06-30" });
    const { bgNbd, gammaGamma, holdout } = report;
    expect([bgNbd.r, bgNbd.alpha, bgNbd.a, bgNbd.b].map(threeDigits)).toEqual([0.243, 4.41, 0.793, 2.43]);
    expect(bgNbd.logLikelihood).toBeCloseTo(-9582.43, 2);
    expect(gammaGamma).toMatchObject({ customers: 946, converged: true });
    expect([gammaGamma?.p, gammaGamma?.q].map((n) => n?.toPrecision(3))).toEqual(["6.25", "3.74"]);
    expect(gammaGamma?.gamma.toPrecision(4)).toBe("15.44");
    expect(holdout).toMatchObject({ length: 39, actual: 1882 });
  });

  it("adds nothing when the log is imported again", async () => {
    const report = json<TransactionImportReport>((await cdnowRuns).again);
    expect(report).toMatchObject({ records: 6919, imported: 0, alreadyImported: 6919, membersCreated: 0 });
    expect(query(cdnowDb, "SELECT count(*) AS n FROM interactions WHERE kind = 'purchase'")).toEqual([{ n: 6919 }]);
    expect(query(cdnowDb, "SELECT count(*) AS n FROM members")).toEqual([{ n: 2357 }]);
    expect(query(cdnowDb, "SELECT sum(purchase_count) AS n FROM member_profiles")).toEqual([{ n: 6919 }]);
  });
});

describe("a placeholder member completed by a later members import", () => {
  it("takes the file's name and contact, keeping its id and its history", async () => {
    const report = json<MemberImportReport>((await cdnowRuns).completed);
    expect(report).toMatchObject({ records: 1, imported: 0, completed: 1, alreadyImported: 0 });
    const id = memberOf(cdnowDb, "00004");
    expect(query(cdnowDb, "SELECT name, email FROM members WHERE id = ?", id)).toEqual([{ name: "Real Customer", email: "real4@example.com" }]);
    expect(query(cdnowDb, "SELECT purchase_count, purchase_days FROM member_profiles WHERE member_id = ?", id)).toEqual([{ purchase_count: 4, purchase_days: 4 }]);
  });
});

describe("usage errors exit 2 with a message on stderr", () => {
  const noContact = file("no-contact.csv", ["id,name,notes", "a,Kim,hello"]);
  const cases: [string, string, string[], RegExp][] = [
    ["nothing to import", crmDb, ["import"], /missing what to import: members or transactions/],
    ["an unknown kind", crmDb, ["import", "partners", crm], /unknown import: partners/],
    ["a transactions flag for members", crmDb, ["import", "members", crm, "--date-col", "3"], /--date-col is not an option of import members/],
    ["a missing file", crmDb, ["import", "members", join(dir, "missing.csv")], /no such file: .*missing\.csv/],
    ["a database that does not exist", join(dir, "nowhere.db"), ["import", "members", crm], /no database at .*nowhere\.db/],
    ["no contact column", crmDb, ["import", "members", noContact], /no email or phone column in the header: id, name, notes/],
    ["a bad channel", crmDb, ["import", "transactions", receipts, "--channel", "fax"], /--channel must be one of store, web/],
    ["a bad currency scale", crmDb, ["import", "transactions", receipts, "--currency-scale", "0.01"], /--currency-scale must be a whole number/],
    ["an unknown partner", crmDb, ["import", "transactions", receipts, "--partner-id", "prt_nope"], /no partner prt_nope/],
    ["a file with --from-db", crmDb, ["clv", "fit", "--from-db", crm], /--from-db reads the database: give no file/],
    ["a file's column with --from-db", crmDb, ["clv", "fit", "--from-db", "--id-col", "1"], /--id-col describes a file; --from-db reads the database/],
  ];
  // After the CRM chain, whose database some of them open.
  const usageRuns = crmRuns.then(() => Promise.all(cases.map(([, database, args]) => dangol(database, ...args))));

  it.each(cases.map((c, i) => [...c, i] as const))("%s", async (_, __, ___, message, i) => {
    const { code, stdout, stderr } = (await usageRuns)[i] as Run;
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(stdout).toBe("");
  });
});
