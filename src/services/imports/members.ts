/**
 * Members from a file another system exported (a CRM, a spreadsheet): read a line at a time, each
 * line checked as enrollMember checks a request, written ~500 members to an atomic unit. What was
 * not taken is reported by line number: rejected (unusable), duplicate (the same member id twice in
 * the file, or an email or phone another member already has) and warnings (a field dropped). Running
 * the same file again enrols nobody twice: each member's external id is kept on its enrolment
 * interaction (see imports.ts). No runtime here: the lines come from any (async) iterable.
 */
import { sql } from "drizzle-orm";
import { z } from "../../lib/zod.ts";
import { isConstraintViolation, type Statement } from "../../../db/database.ts";
import { frozenClock, type Deps } from "../../deps.ts";
import {
  ColumnNotFoundError,
  detectDelimiter,
  parseCalendarDate,
  resolveColumns,
  splitFields,
  type ColumnRef,
  type Delimiter,
} from "../../domain/delimited.ts";
import { newId } from "../../lib/ids.ts";
import { toE164 } from "../../lib/phone.ts";
import {
  createIssueList,
  enrolImportedStatements,
  linkedMembers,
  placeholderEmail,
  type ImportedMember,
  type IssueList,
} from "./imports.ts";
import type { Gender } from "../../domain/members.ts";
import { isoDate } from "../../lib/time.ts";

export type MemberColumn = "id" | "name" | "email" | "phone" | "birth-date" | "gender" | "region";

export interface MemberFileFormat {
  delimiter: Delimiter;
  /** Whether the first non-blank line names the columns. */
  header: boolean;
  /** Columns given by the operator; the others are found by {@link MEMBER_COLUMN_NAMES}. */
  columns: Partial<Record<MemberColumn, ColumnRef>>;
}

/**
 * Header names tried, in order, when a column is not given (case-insensitive, ignoring spaces, - and
 * _), Korean exports' names included. Without a header the id is column 1 and the name column 2;
 * the others are read only when given.
 */
export const MEMBER_COLUMN_NAMES: Record<MemberColumn, readonly string[]> = {
  id: ["external_id", "member_id", "customer_id", "member_no", "customer_no", "id", "member", "customer", "user_id", "client_id", "회원번호", "고객번호"],
  name: ["name", "full_name", "member_name", "customer_name", "이름", "성명", "고객명", "회원명"],
  email: ["email", "email_address", "mail", "이메일", "메일"],
  phone: ["phone", "phone_number", "mobile", "mobile_phone", "cell", "cellphone", "tel", "telephone", "휴대폰", "휴대전화", "전화번호", "연락처"],
  "birth-date": ["birth_date", "birthdate", "date_of_birth", "dob", "birthday", "생년월일", "생일"],
  gender: ["gender", "sex", "성별"],
  region: ["region", "city", "area", "지역", "시도"],
};

const EmailSchema = z.email().max(254);
const MAX_ID_LENGTH = 128;
const MAX_TEXT_LENGTH = 100;

const GENDERS: Record<string, Gender> = {
  female: "female", f: "female", woman: "female", w: "female", 여: "female", 여성: "female", 여자: "female",
  male: "male", m: "male", man: "male", 남: "male", 남성: "male", 남자: "male",
  other: "other", x: "other", 기타: "other",
  undisclosed: "undisclosed", unknown: "undisclosed", u: "undisclosed", 미공개: "undisclosed",
};

/** How a line's contact data reads: every record counts towards the data-quality rate. */
export interface ContactCheck {
  email: "valid" | "invalid" | "missing";
  phone: "valid" | "invalid" | "missing";
}

export type MemberFields = Omit<ImportedMember, "id" | "line">;

export type ParsedMemberLine =
  | { kind: "header" }
  | { kind: "blank" }
  | { kind: "member"; member: MemberFields; warnings: string[]; contact: ContactCheck }
  | { kind: "rejected"; reason: string; contact: ContactCheck };

type Columns = Record<MemberColumn, number | undefined>;

function memberColumns(header: string[] | undefined, format: MemberFileFormat): Columns {
  const spec = (role: MemberColumn, position?: number) => ({
    column: format.columns[role],
    names: MEMBER_COLUMN_NAMES[role],
    required: role === "id" || role === "name",
    ...(position !== undefined && { position }),
  });
  const columns = resolveColumns(header, {
    id: spec("id", 0),
    name: spec("name", 1),
    email: spec("email"),
    phone: spec("phone"),
    "birth-date": spec("birth-date"),
    gender: spec("gender"),
    region: spec("region"),
  });
  if (columns.email === undefined && columns.phone === undefined) {
    const found = header ? ` in the header: ${header.join(", ")}` : "";
    throw new ColumnNotFoundError(`no email or phone column${found} (every member needs one: give --email-col or --phone-col)`);
  }
  return columns;
}

/**
 * A line parser for one members file, checking each field as the members API does: the email an
 * address (stored lowercased), the phone a number (stored in E.164; Korean local numbers accepted),
 * the birth date a real date not after `today` (YYYY-MM-DD, also written with / or . or none).
 * A record needs an id, a name and a valid email or phone; a bad birth date, gender or region is
 * dropped with a warning. Throws {@link ColumnNotFoundError} when a column cannot be found.
 */
export function createMemberLineParser(format: MemberFileFormat, today: string): (line: string) => ParsedMemberLine {
  let delimiter: Exclude<Delimiter, "auto"> | undefined = format.delimiter === "auto" ? undefined : format.delimiter;
  let columns = format.header ? undefined : memberColumns(undefined, format);
  let headerLength: number | undefined;

  return (line) => {
    if (line.trim() === "") return { kind: "blank" };
    delimiter ??= detectDelimiter(line);
    const fields = splitFields(line, delimiter);
    if (!columns) {
      columns = memberColumns(fields, format);
      headerLength = fields.length;
      return { kind: "header" };
    }
    const field = (role: MemberColumn) => {
      const position = columns?.[role];
      return position === undefined ? "" : (fields[position] ?? "");
    };
    const emailText = field("email").toLowerCase();
    const email = emailText === "" ? null : EmailSchema.safeParse(emailText).success ? emailText : undefined;
    const phoneText = field("phone");
    const phone = phoneText === "" ? null : (toE164(phoneText) ?? undefined);
    const contact: ContactCheck = {
      email: email === null ? "missing" : email === undefined ? "invalid" : "valid",
      phone: phone === null ? "missing" : phone === undefined ? "invalid" : "valid",
    };
    const reject = (reason: string) => ({ kind: "rejected", reason, contact }) as const;
    // More fields than the header names: a comma inside an unquoted field has shifted the rest.
    if (headerLength !== undefined && fields.length > headerLength) return reject(`${fields.length} fields, the header has ${headerLength} (a comma in an unquoted field?)`);
    const externalId = field("id");
    const name = field("name");
    if (externalId === "") return reject("empty member id");
    if (externalId.length > MAX_ID_LENGTH) return reject(`member id longer than ${MAX_ID_LENGTH} characters`);
    if (name === "") return reject("empty name");
    if (name.length > MAX_TEXT_LENGTH) return reject(`name longer than ${MAX_TEXT_LENGTH} characters`);
    const emailProblem = `email ${JSON.stringify(emailText)} is not an email address`;
    const phoneProblem = `phone ${JSON.stringify(phoneText)} is not a phone number`;
    if (!email && !phone) {
      const problems = [email === undefined ? emailProblem : "no email", phone === undefined ? phoneProblem : "no phone"];
      return reject(`no valid email or phone: ${problems.join(", ")}`);
    }

    const warnings: string[] = [];
    if (email === undefined) warnings.push(`${emailProblem}: imported with the phone only`);
    if (phone === undefined) warnings.push(`${phoneProblem}: imported with the email only`);
    const birthText = field("birth-date");
    let birthDate: string | null = null;
    if (birthText !== "") {
      const at = parseCalendarDate(birthText.replace(/[./]/g, "-"), "auto");
      const iso = at === undefined ? undefined : isoDate(at);
      if (iso === undefined || iso < "1900-01-01" || iso > today) warnings.push(`birth date ${JSON.stringify(birthText)} is not a date from 1900 to today: left out`);
      else birthDate = iso;
    }
    const genderText = field("gender");
    const gender = genderText === "" ? null : (GENDERS[genderText.toLowerCase()] ?? undefined);
    if (gender === undefined) warnings.push(`gender ${JSON.stringify(genderText)} is not female, male, other or undisclosed: left out`);
    let region: string | null = field("region") || null;
    if (region !== null && region.length > MAX_TEXT_LENGTH) {
      warnings.push(`region longer than ${MAX_TEXT_LENGTH} characters: left out`);
      region = null;
    }
    return {
      kind: "member",
      member: { externalId, name, email: email ?? null, phone: phone ?? null, birthDate, gender: gender ?? null, region },
      warnings,
      contact,
    };
  };
}

export interface MemberImportOptions {
  format: MemberFileFormat;
  /** The file's name, kept on each enrolment interaction with the line number. */
  file?: string;
  /** Members per atomic unit; default 500. */
  chunkSize?: number;
  /** Issues listed per kind (all are counted); default 1,000. */
  maxListed?: number;
  /** Called every 1,000 lines and after each unit is written. */
  onProgress?: (progress: { linesRead: number; imported: number }) => void;
}

export interface MemberImportReport {
  lines: number;
  /** Lines that are neither blank nor the header. */
  records: number;
  /** Members enrolled by this run. */
  imported: number;
  /** Placeholder members (made by a transactions import with --create-members) given this file's data. */
  completed: number;
  /** Records whose member id an earlier run imported: left as they are. */
  alreadyImported: number;
  rejected: IssueList;
  duplicates: IssueList;
  warnings: IssueList;
  /** Records without a usable contact: no valid email and no valid phone. */
  dataQuality: { withoutValidContact: number; rate: number; invalidEmails: number; invalidPhones: number; noContactGiven: number };
}

interface Candidate {
  line: number;
  member: MemberFields;
}

/**
 * Imports members from a file's lines. Throws {@link ColumnNotFoundError} when a column cannot be
 * found; a line that cannot be used is reported, never thrown.
 */
export async function importMembers(deps: Deps, lines: AsyncIterable<string> | Iterable<string>, options: MemberImportOptions): Promise<MemberImportReport> {
  const today = isoDate(deps.clock());
  const parse = createMemberLineParser(options.format, today);
  const chunkSize = options.chunkSize ?? 500;
  const maxListed = options.maxListed ?? 1_000;
  const rejected = createIssueList(maxListed);
  const duplicates = createIssueList(maxListed);
  const warnings = createIssueList(maxListed);
  const quality = { withoutValidContact: 0, invalidEmails: 0, invalidPhones: 0, noContactGiven: 0 };
  const counts = { lines: 0, records: 0, imported: 0, completed: 0, alreadyImported: 0 };
  // The first line of each member id, email and phone in the file: a later one is a duplicate.
  const firstLine = { id: new Map<string, number>(), email: new Map<string, number>(), phone: new Map<string, number>() };
  let chunk: Candidate[] = [];

  const flush = async () => {
    const outcome = await writeMembers(deps, chunk, options.file);
    counts.imported += outcome.imported;
    counts.completed += outcome.completed;
    counts.alreadyImported += outcome.alreadyImported;
    for (const d of outcome.duplicates) duplicates.add(d.line, d.reason);
    chunk = [];
    options.onProgress?.({ linesRead: counts.lines, imported: counts.imported });
  };

  for await (const text of lines) {
    const line = ++counts.lines;
    if (options.onProgress && line % 1_000 === 0) options.onProgress({ linesRead: line, imported: counts.imported });
    const parsed = parse(line === 1 ? text.replace(/^\uFEFF/, "") : text);
    if (parsed.kind === "header" || parsed.kind === "blank") continue;
    counts.records++;
    const { contact } = parsed;
    if (contact.email !== "valid" && contact.phone !== "valid") quality.withoutValidContact++;
    if (contact.email === "invalid") quality.invalidEmails++;
    if (contact.phone === "invalid") quality.invalidPhones++;
    if (contact.email === "missing" && contact.phone === "missing") quality.noContactGiven++;
    if (parsed.kind === "rejected") {
      rejected.add(line, parsed.reason);
      continue;
    }
    const { member } = parsed;
    const seen =
      (firstLine.id.has(member.externalId) && `member id ${JSON.stringify(member.externalId)} already on line ${firstLine.id.get(member.externalId)}`) ||
      (member.email !== null && firstLine.email.has(member.email) && `email ${member.email} already on line ${firstLine.email.get(member.email)}`) ||
      (member.phone !== null && firstLine.phone.has(member.phone) && `phone ${member.phone} already on line ${firstLine.phone.get(member.phone)}`);
    if (seen) {
      duplicates.add(line, seen);
      continue;
    }
    firstLine.id.set(member.externalId, line);
    if (member.email !== null) firstLine.email.set(member.email, line);
    if (member.phone !== null) firstLine.phone.set(member.phone, line);
    for (const warning of parsed.warnings) warnings.add(line, warning);
    chunk.push({ line, member });
    if (chunk.length >= chunkSize) await flush();
  }
  if (chunk.length > 0) await flush();

  return {
    ...counts,
    rejected: rejected.report,
    duplicates: duplicates.report,
    warnings: warnings.report,
    dataQuality: { ...quality, rate: counts.records > 0 ? quality.withoutValidContact / counts.records : 0 },
  };
}

const MAX_UNIT_ATTEMPTS = 5;

/**
 * Writes one unit of members, or none of them. Decisions are made on what the database holds just
 * before; a concurrent enrolment or import that takes an email, a phone or an external id first
 * makes a UNIQUE index abort the unit, which is then decided again.
 */
async function writeMembers(live: Deps, candidates: Candidate[], file: string | undefined) {
  for (let attempt = 1; ; attempt++) {
    const deps = frozenClock(live);
    const [linked, holders] = await Promise.all([
      linkedMembers(deps, candidates.map((c) => c.member.externalId)),
      contactHolders(deps, candidates.map((c) => c.member)),
    ]);
    const outcome = { imported: 0, completed: 0, alreadyImported: 0, duplicates: [] as Array<{ line: number; reason: string }> };
    const enrol: ImportedMember[] = [];
    const statements: Statement[] = [];
    for (const { line, member } of candidates) {
      const link = linked.get(member.externalId);
      if (link && !link.placeholder) {
        outcome.alreadyImported++;
        continue;
      }
      const emailHolder = member.email === null ? undefined : holders.get(`email:${member.email}`);
      const phoneHolder = member.phone === null ? undefined : holders.get(`phone:${member.phone}`);
      if (emailHolder !== undefined && emailHolder !== link?.memberId) {
        outcome.duplicates.push({ line, reason: `email ${member.email} is already member ${emailHolder}'s` });
      } else if (phoneHolder !== undefined && phoneHolder !== link?.memberId) {
        outcome.duplicates.push({ line, reason: `phone ${member.phone} is already member ${phoneHolder}'s` });
      } else if (link) {
        statements.push(completePlaceholderStatement(deps, link.memberId, member));
        outcome.completed++;
      } else {
        enrol.push({ id: newId("member", deps.clock()), line, ...member });
        outcome.imported++;
      }
    }
    statements.push(...enrolImportedStatements(deps, enrol, file));
    try {
      if (statements.length > 0) await deps.database.atomic(statements);
      return outcome;
    } catch (error) {
      if (!isConstraintViolation(error, "UNIQUE") || attempt >= MAX_UNIT_ATTEMPTS) throw error;
    }
  }
}

/** Who holds these emails and phones now: "email:…" or "phone:…" → member id. */
async function contactHolders(deps: Deps, members: MemberFields[]): Promise<Map<string, string>> {
  const emails = JSON.stringify([...new Set(members.flatMap((m) => (m.email === null ? [] : [m.email])))]);
  const phones = JSON.stringify([...new Set(members.flatMap((m) => (m.phone === null ? [] : [m.phone])))]);
  const rows = (await deps.database.db.all(sql`SELECT id, email, phone FROM members
      WHERE email IN (SELECT value FROM json_each(${emails})) OR phone IN (SELECT value FROM json_each(${phones}))`)) as Array<{ id: string; email: string | null; phone: string | null }>;
  const holders = new Map<string, string>();
  for (const row of rows) {
    if (row.email !== null) holders.set(`email:${row.email}`, row.id);
    if (row.phone !== null) holders.set(`phone:${row.phone}`, row.id);
  }
  return holders;
}

/** A placeholder member takes the file's data; the guard leaves a member someone completed meanwhile alone. */
function completePlaceholderStatement(deps: Deps, memberId: string, member: MemberFields): Statement {
  return sql`UPDATE members SET name = ${member.name}, email = ${member.email}, phone = ${member.phone}, birth_date = ${member.birthDate},
                                gender = ${member.gender}, region = ${member.region}, updated_at = ${deps.clock()}
             WHERE id = ${memberId} AND email = ${placeholderEmail(memberId)}`;
}
