/**
 * What the member and transaction imports share: how a member is found by the id a source system
 * gave it, how members are enrolled in bulk, and how an import reports the lines it did not take.
 *
 * Members have no external-id column, so the link lives on the member's enrolment interaction: an
 * imported member is enrolled with an interaction of kind "enrolment", source "import:members" and
 * external_id = the source's member id. The UNIQUE (source, external_id) index on interactions then
 * guarantees one member per external id, even when two imports race.
 */
import { sql } from "drizzle-orm";
import type { Statement } from "../../../db/database.ts";
import type { Deps } from "../../deps.ts";
import { newId } from "../../lib/ids.ts";
import type { Gender } from "../../domain/members.ts";
import { rowsForValues } from "../../store/rows-for-values.ts";
import { contactProfileStatements } from "../../store/profiles.ts";

export const MEMBER_IMPORT_SOURCE = "import:members";
export const TRANSACTION_IMPORT_SOURCE = "import:transactions";

/**
 * Members made up for a transaction history without member data (`--create-members`) need a contact
 * (the members_contact CHECK): an address under the reserved `.invalid` domain (RFC 2606) that no
 * message can reach, replaced when a members import brings the real data.
 */
export const PLACEHOLDER_EMAIL_DOMAIN = "import.invalid";

export const placeholderEmail = (memberId: string) => `${memberId.toLowerCase()}@${PLACEHOLDER_EMAIL_DOMAIN}`;
export const isPlaceholderEmail = (email: string | null) => email !== null && email.endsWith(`@${PLACEHOLDER_EMAIL_DOMAIN}`);

/** A line an import did not take, and why. */
export interface ImportIssue {
  /** 1-based line number in the file, the header included. */
  line: number;
  reason: string;
}

export interface IssueList {
  count: number;
  /** The first ones (in line order), up to the import's listing limit. */
  lines: ImportIssue[];
}

/** Counts every issue and keeps the first `max` to list. */
export function createIssueList(max: number) {
  const list: IssueList = { count: 0, lines: [] };
  return {
    add(line: number, reason: string) {
      list.count++;
      if (list.lines.length < max) list.lines.push({ line, reason });
    },
    /** The list, sorted by line (an import that sorts its input finds issues out of line order). */
    get report(): IssueList {
      list.lines.sort((a, b) => a.line - b.line);
      return list;
    },
  };
}

export interface LinkedMember {
  memberId: string;
  email: string | null;
  placeholder: boolean;
}

/** The members already imported under these external ids: external id → member. */
export async function linkedMembers(deps: Deps, externalIds: Iterable<string>): Promise<Map<string, LinkedMember>> {
  const rows = await rowsForValues<{ externalId: string; memberId: string; email: string | null }>(
    deps,
    externalIds,
    (list) => sql`SELECT i.external_id AS externalId, i.member_id AS memberId, m.email AS email
                  FROM interactions i JOIN members m ON m.id = i.member_id
                  WHERE i.source = ${MEMBER_IMPORT_SOURCE} AND i.external_id IN ${list}`,
  );
  return new Map(rows.map((r) => [r.externalId, { memberId: r.memberId, email: r.email, placeholder: isPlaceholderEmail(r.email) }]));
}

/** A member to enrol from an import, contact data already normalised. */
export interface ImportedMember {
  id: string;
  externalId: string;
  name: string;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
  gender: Gender | null;
  region: string | null;
  /** Where it came from, kept on the enrolment interaction. */
  line: number;
}

/**
 * Enrols members as enrollMember does (member, empty balance, an "enrolment" interaction with its
 * share of the profile), the enrolment carrying the external id. A few statements for the whole
 * list: rows travel as one JSON parameter.
 */
export function enrolImportedStatements(deps: Deps, imported: ImportedMember[], file: string | undefined): Statement[] {
  if (imported.length === 0) return [];
  const now = deps.clock();
  const rows = JSON.stringify(imported.map((m) => ({ ...m, interactionId: newId("interaction", now) })));
  const v = (name: keyof ImportedMember | "interactionId") => sql.raw(`json_extract(value, '$.${name}')`);
  const attributes = sql`json_object('file', ${file ?? null}, 'line', ${v("line")})`;
  return [
    sql`INSERT INTO members (id, name, email, phone, birth_date, gender, region, created_at, updated_at)
        SELECT ${v("id")}, ${v("name")}, ${v("email")}, ${v("phone")}, ${v("birthDate")}, ${v("gender")}, ${v("region")}, ${now}, ${now}
        FROM json_each(${rows})`,
    sql`INSERT INTO member_balances (member_id, updated_at) SELECT ${v("id")}, ${now} FROM json_each(${rows})`,
    sql`INSERT INTO interactions (id, member_id, kind, channel, attributes, source, external_id, occurred_at, created_at)
        SELECT ${v("interactionId")}, ${v("id")}, 'enrolment', 'system', ${attributes}, ${MEMBER_IMPORT_SOURCE}, ${v("externalId")}, ${now}, ${now}
        FROM json_each(${rows})`,
    ...imported.flatMap((m) => contactProfileStatements(deps.clock(), { memberId: m.id, at: now, isContact: false })),
  ];
}
