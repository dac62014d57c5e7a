/**
 * A purchase history from another system, as interactions: each line becomes a "purchase"
 * interaction of the member it names (by the member id a members import recorded) and adds its
 * share to the member's profile exactly as a purchase at a till does — but moves no points and
 * books nothing in the ledger: what happened before the program joined is history, not earning.
 *
 * The profile counts a new purchase day only when a purchase is later than the member's last one
 * (purchaseProfileStatements), so each member's lines must be written in date order: the file is
 * read whole and sorted by (member, date, line), or, with `inputSorted`, streamed as it is and a
 * line dated before the same member's previous line is rejected.
 *
 * Each line is recorded under source "import:transactions" and a key — the file's transaction id
 * column if given, else member id + date + line number — so running the same file again writes
 * nothing twice (the UNIQUE (source, external_id) index holds it under races too).
 */
import { eq, sql } from "drizzle-orm";
import { isConstraintViolation, type Statement } from "../../../db/database.ts";
import { partners } from "../../../db/schema.ts";
import { frozenClock, type Deps } from "../../deps.ts";
import { newId } from "../../lib/ids.ts";
import { createLineParser, type TransactionFileFormat } from "../../domain/clv/fit.ts";
import {
  createIssueList,
  enrolImportedStatements,
  linkedMembers,
  placeholderEmail,
  TRANSACTION_IMPORT_SOURCE,
  type ImportedMember,
  type IssueList,
} from "./imports.ts";
import type { InteractionChannel } from "../../domain/interactions.ts";
import { purchaseProfileStatements } from "../../store/profiles.ts";
import { rowsForValues } from "../../store/rows-for-values.ts";
import { currentProgram } from "../program/program.ts";
import { isoDate } from "../../lib/time.ts";

/** The affinity subject ("partner:import", "category:import") of history that names no partner. */
export const IMPORT_PSEUDO_PARTNER = "import";

export interface TransactionImportOptions {
  format: TransactionFileFormat;
  /** Minor units per unit of the file's amounts: 100 reads dollars 29.33 as 2933 cents; default 1. */
  currencyScale?: number;
  /** Default "store". */
  channel?: InteractionChannel;
  /** The partner the purchases were made at: the interactions name it and its category is the affinity. */
  partnerId?: string;
  /** Enrol a placeholder member ("Imported <id>", no real contact) for a member id no import knows. */
  createMembers?: boolean;
  /** Stream the file as it is, requiring each member's lines in date order, instead of sorting it in memory. */
  inputSorted?: boolean;
  /** The file's name, kept on each interaction with the line number. */
  file?: string;
  /** Lines per atomic unit; default 500. */
  chunkSize?: number;
  /** Issues listed per kind (all are counted); default 1,000. */
  maxListed?: number;
  onProgress?: (progress: { stage: "reading" | "writing"; linesRead: number; written: number; total?: number }) => void;
}

export interface TransactionImportReport {
  lines: number;
  /** Lines that are neither blank nor the header. */
  records: number;
  /** Purchase interactions written by this run. */
  imported: number;
  /** Lines an earlier run imported (same key): left as they are. */
  alreadyImported: number;
  /** Placeholder members enrolled for unknown member ids (--create-members). */
  membersCreated: number;
  /** Sum of the imported amounts, in minor units. */
  amountMinor: number;
  rejected: IssueList;
  /** The same transaction id twice in the file (with a transaction id column). */
  duplicates: IssueList;
  firstPurchaseDate: string | null;
  lastPurchaseDate: string | null;
  order: "sorted in memory" | "input order";
}

/** A line ready to write. */
interface Row {
  line: number;
  externalMemberId: string;
  /** UTC midnight of the date written. */
  day: number;
  amountMinor: number;
  key: string;
  txnId: string | undefined;
}

export class TransactionImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransactionImportError";
  }
}

/**
 * Imports a purchase history from a file's lines. Throws TransactionFileError "column_not_found"
 * for a missing column and {@link TransactionImportError} for an unknown partner; a line that
 * cannot be used is reported, never thrown.
 */
export async function importTransactions(live: Deps, lines: AsyncIterable<string> | Iterable<string>, options: TransactionImportOptions): Promise<TransactionImportReport> {
  const { program } = await currentProgram(live);
  const partner = options.partnerId === undefined ? { id: IMPORT_PSEUDO_PARTNER, category: IMPORT_PSEUDO_PARTNER, real: false } : await partnerOf(live, options.partnerId);
  const parse = createLineParser(options.format);
  const scale = options.currencyScale ?? 1;
  const chunkSize = options.chunkSize ?? 500;
  const rejected = createIssueList(options.maxListed ?? 1_000);
  const duplicates = createIssueList(options.maxListed ?? 1_000);
  const counts = { lines: 0, records: 0, imported: 0, alreadyImported: 0, membersCreated: 0, amountMinor: 0 };
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  /** External member id → member id, as found or created during this run. */
  const memberIds = new Map<string, string>();
  /** With a transaction id column: the first line of each id. */
  const firstLineOfTxn = new Map<string, number>();
  /** Streaming: each member's last date and its line, to refuse a line out of order. */
  const lastOfMember = new Map<string, { day: number; line: number }>();

  const write = async (rows: Row[]) => {
    const outcome = await writeTransactions(live, rows, {
      memberIds,
      createMembers: options.createMembers ?? false,
      channel: options.channel ?? "store",
      partner,
      utcOffsetMinutes: program.utcOffsetMinutes,
      file: options.file,
    });
    counts.imported += outcome.imported;
    counts.alreadyImported += outcome.alreadyImported;
    counts.membersCreated += outcome.membersCreated;
    counts.amountMinor += outcome.amountMinor;
    for (const r of outcome.rejected) rejected.add(r.line, r.reason);
  };

  const rows: Row[] = [];
  let written = 0;
  for await (const text of lines) {
    const line = ++counts.lines;
    if (options.onProgress && line % 1_000 === 0) options.onProgress({ stage: "reading", linesRead: line, written });
    const parsed = parse(line === 1 ? text.replace(/^\uFEFF/, "") : text);
    if (parsed.kind === "rejected") rejected.add(line, parsed.reason);
    if (parsed.kind !== "header" && parsed.kind !== "blank") counts.records++;
    if (parsed.kind !== "transaction") continue;
    const scaled = parsed.amount * scale;
    const amountMinor = Math.round(scaled);
    if (Math.abs(scaled - amountMinor) > 1e-6 * Math.max(1, Math.abs(scaled))) {
      rejected.add(line, `amount ${parsed.amount} has more decimals than --currency-scale ${scale} makes whole minor units of`);
      continue;
    }
    if (!Number.isSafeInteger(amountMinor)) {
      rejected.add(line, `amount ${parsed.amount} is too large`);
      continue;
    }
    if (parsed.txnId !== undefined) {
      const first = firstLineOfTxn.get(parsed.txnId);
      if (first !== undefined) {
        duplicates.add(line, `transaction id ${JSON.stringify(parsed.txnId)} already on line ${first}`);
        continue;
      }
      firstLineOfTxn.set(parsed.txnId, line);
    }
    const date = isoDate(parsed.at);
    const row: Row = {
      line,
      externalMemberId: parsed.customerId,
      day: parsed.at,
      amountMinor,
      key: parsed.txnId ?? `${parsed.customerId}|${date}|${line}`,
      txnId: parsed.txnId,
    };
    if (options.inputSorted) {
      const previous = lastOfMember.get(row.externalMemberId);
      if (previous && row.day < previous.day) {
        rejected.add(line, `dated before line ${previous.line} of the same member: streaming needs each member's lines in date order (import without --sorted to sort the file)`);
        continue;
      }
      lastOfMember.set(row.externalMemberId, { day: row.day, line });
    }
    firstDay = Math.min(firstDay, row.day);
    lastDay = Math.max(lastDay, row.day);
    rows.push(row);
    if (options.inputSorted && rows.length >= chunkSize) {
      await write(rows.splice(0, rows.length));
      written = counts.imported + counts.alreadyImported;
    }
  }

  if (!options.inputSorted) {
    const byMemberThenDate = (a: Row, b: Row) =>
      a.externalMemberId < b.externalMemberId ? -1 : a.externalMemberId > b.externalMemberId ? 1 : a.day - b.day || a.line - b.line;
    rows.sort(byMemberThenDate);
  }
  for (let i = 0; i < rows.length; i += chunkSize) {
    options.onProgress?.({ stage: "writing", linesRead: counts.lines, written: i, total: rows.length });
    await write(rows.slice(i, i + chunkSize));
  }
  const iso = (day: number) => (Number.isFinite(day) ? isoDate(day) : null);
  return {
    ...counts,
    rejected: rejected.report,
    duplicates: duplicates.report,
    firstPurchaseDate: iso(firstDay),
    lastPurchaseDate: iso(lastDay),
    order: options.inputSorted ? "input order" : "sorted in memory",
  };
}

async function partnerOf(deps: Deps, partnerId: string) {
  const [row] = await deps.database.db.select({ id: partners.id, category: partners.category }).from(partners).where(eq(partners.id, partnerId));
  if (!row) throw new TransactionImportError(`no partner ${partnerId}`);
  return { ...row, real: true };
}

interface WriteContext {
  memberIds: Map<string, string>;
  createMembers: boolean;
  channel: InteractionChannel;
  partner: { id: string; category: string; real: boolean };
  utcOffsetMinutes: number;
  file: string | undefined;
}

const MAX_UNIT_ATTEMPTS = 5;

/**
 * Writes one unit of lines, or none: placeholders for unknown members, the interactions and each
 * line's share of its member's profile, in the rows' order. A concurrent run that wrote some of the
 * same keys (or enrolled the same member) first makes a UNIQUE index abort the unit, which is then
 * decided again from what the database holds.
 */
async function writeTransactions(live: Deps, rows: Row[], context: WriteContext) {
  for (let attempt = 1; ; attempt++) {
    const deps = frozenClock(live);
    const now = deps.clock();
    const done = await rowsForValues<{ key: string }>(
      deps,
      rows.map((r) => r.key),
      (list) => sql`SELECT external_id AS key FROM interactions WHERE source = ${TRANSACTION_IMPORT_SOURCE} AND external_id IN ${list}`,
    );
    const already = new Set(done.map((r) => r.key));
    const unknown = rows.filter((r) => !context.memberIds.has(r.externalMemberId)).map((r) => r.externalMemberId);
    for (const [externalId, link] of await linkedMembers(deps, unknown)) context.memberIds.set(externalId, link.memberId);

    const outcome = { imported: 0, alreadyImported: 0, membersCreated: 0, amountMinor: 0, rejected: [] as Array<{ line: number; reason: string }> };
    const created = new Map<string, string>();
    const placeholders: ImportedMember[] = [];
    const interactionRows: Array<Record<string, unknown>> = [];
    const profile: Statement[] = [];
    for (const row of rows) {
      if (already.has(row.key)) {
        outcome.alreadyImported++;
        continue;
      }
      let memberId = context.memberIds.get(row.externalMemberId) ?? created.get(row.externalMemberId);
      if (memberId === undefined) {
        if (!context.createMembers) {
          outcome.rejected.push({ line: row.line, reason: `no member imported with id ${JSON.stringify(row.externalMemberId)} (import members first, or --create-members)` });
          continue;
        }
        memberId = newId("member", now);
        created.set(row.externalMemberId, memberId);
        placeholders.push(placeholderMember(memberId, row));
      }
      // Local midnight of the written date in the program's time zone: the profile, the recompute
      // and `clv fit --from-db` all count it on that date.
      const occurredAt = row.day - context.utcOffsetMinutes * 60_000;
      interactionRows.push({
        id: newId("interaction", now),
        memberId,
        partnerId: context.partner.real ? context.partner.id : null,
        amountMinor: row.amountMinor,
        reference: row.txnId ?? null,
        attributes: JSON.stringify({ file: context.file ?? null, line: row.line }),
        key: row.key,
        occurredAt,
      });
      profile.push(
        ...purchaseProfileStatements(deps.clock(), {
          memberId,
          partnerId: context.partner.id,
          partnerCategory: context.partner.category,
          at: occurredAt,
          amountMinor: row.amountMinor,
          pointsEarned: 0,
          pointsSpent: 0,
          offersUsed: 0,
          utcOffsetMinutes: context.utcOffsetMinutes,
        }),
      );
      outcome.imported++;
      outcome.amountMinor += row.amountMinor;
    }
    outcome.membersCreated = placeholders.length;
    const statements: Statement[] = [
      ...enrolImportedStatements(deps, placeholders, context.file),
      ...(interactionRows.length > 0 ? [insertPurchasesStatement(deps, context.channel, interactionRows)] : []),
      ...profile,
    ];
    try {
      if (statements.length > 0) await deps.database.atomic(statements);
      for (const [externalId, memberId] of created) context.memberIds.set(externalId, memberId);
      return outcome;
    } catch (error) {
      if (!isConstraintViolation(error, "UNIQUE") || attempt >= MAX_UNIT_ATTEMPTS) throw error;
    }
  }
}

function placeholderMember(memberId: string, row: Row): ImportedMember {
  return {
    id: memberId,
    externalId: row.externalMemberId,
    name: `Imported ${row.externalMemberId}`.slice(0, 100),
    email: placeholderEmail(memberId),
    phone: null,
    birthDate: null,
    gender: null,
    region: null,
    line: row.line,
  };
}

/** The unit's purchase interactions in one statement: the rows travel as one JSON parameter. */
function insertPurchasesStatement(deps: Deps, channel: InteractionChannel, rows: Array<Record<string, unknown>>): Statement {
  const v = (name: string) => sql.raw(`json_extract(value, '$.${name}')`);
  return sql`INSERT INTO interactions (id, member_id, kind, channel, partner_id, amount_minor, reference, attributes, source, external_id, occurred_at, created_at)
             SELECT ${v("id")}, ${v("memberId")}, 'purchase', ${channel}, ${v("partnerId")}, ${v("amountMinor")}, ${v("reference")}, ${v("attributes")},
                    ${TRANSACTION_IMPORT_SOURCE}, ${v("key")}, ${v("occurredAt")}, ${deps.clock()}
             FROM json_each(${JSON.stringify(rows)})`;
}
