/**
 * Reading delimited text exports (CSV, TSV, whitespace-aligned logs) a line at a time: splitting
 * fields, finding columns by header name or position, and reading calendar dates as written. Pure:
 * the lines come from whoever reads the file.
 */

/** A column by its 1-based position or by its header name (case-insensitive). */
export type ColumnRef = { index: number } | { name: string };

export type DateFormat = "auto" | "YYYYMMDD" | "YYYY-MM-DD" | "ISO";

/** "auto" picks tab, comma or whitespace runs from the first line; otherwise one character, or runs of whitespace. */
export type Delimiter = "auto" | "whitespace" | string;

/** The calendar date written in `text` as UTC midnight, epoch ms; undefined when it is not a date in `format`. */
export function parseCalendarDate(text: string, format: DateFormat = "auto"): number | undefined {
  const value = text.trim();
  let match: RegExpMatchArray | null = null;
  if (format === "YYYYMMDD" || format === "auto") match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match && (format === "YYYY-MM-DD" || format === "auto")) match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match && (format === "ISO" || format === "auto")) {
    // A date-time is bucketed by the date written in it: the purchase's local day when it carries
    // an offset, so a 23:30 purchase in Seoul is not moved to the next (UTC) day.
    match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
    if (match && (Number(match[4] ?? 0) > 23 || Number(match[5] ?? 0) > 59 || Number(match[6] ?? 0) > 60)) return undefined;
  }
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = Date.UTC(year, month - 1, day);
  const date = new Date(at);
  // Date.UTC rolls 1997-02-30 over to March; a real date survives the round trip.
  const valid = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return valid ? at : undefined;
}

/** The delimiter a line seems to use: a tab if it has one, else a comma, else runs of whitespace. */
export function detectDelimiter(line: string): Exclude<Delimiter, "auto"> {
  if (line.includes("\t")) return "\t";
  if (line.includes(",")) return ",";
  return "whitespace";
}

/**
 * A line's fields. With a one-character delimiter, fields may be quoted ("a, b" or "say ""hi""") as in
 * RFC 4180, but a quoted field cannot span lines. Fields are trimmed.
 */
export function splitFields(line: string, delimiter: Exclude<Delimiter, "auto">): string[] {
  const text = line.replace(/\r$/, "");
  if (delimiter === "whitespace") return text.trim().split(/\s+/);
  if (!text.includes('"')) return text.split(delimiter).map((field) => field.trim());
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (char === delimiter) {
      fields.push(field.trim());
      field = "";
    } else field += char;
  }
  fields.push(field.trim());
  return fields;
}

/** How to find one column: asked for, else by the usual header names, else by position. */
export interface ColumnSpec {
  /** The column the caller named (a `--role-col` flag). */
  column?: ColumnRef | undefined;
  /** Header names tried in order, compared case-insensitively, ignoring spaces, - and _. */
  names: readonly string[];
  /** 0-based position in a file without a header when no column is given; absent: not read. */
  position?: number;
  /** A header without it (and no column given) is an error; otherwise the column is just absent. */
  required: boolean;
}

/** A column that cannot be found: a usage problem, not a problem of one line. */
export class ColumnNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ColumnNotFoundError";
  }
}

const headerName = (name: string) => name.toLowerCase().replace(/[\s_-]/g, "");

/**
 * 0-based positions of the columns of each role (undefined: absent), from the header's names or,
 * without a header (`header` undefined), from the numbers given. Roles are kebab-case ("birth-date")
 * and name their flag (`--birth-date-col`) in the messages. Throws {@link ColumnNotFoundError}.
 */
export function resolveColumns<Role extends string>(
  header: readonly string[] | undefined,
  specs: Record<Role, ColumnSpec>,
): Record<Role, number | undefined> {
  const names = header?.map(headerName);
  const out = {} as Record<Role, number | undefined>;
  for (const role of Object.keys(specs) as Role[]) {
    const { column, position, required } = specs[role];
    if (!header || !names) {
      if (column && "name" in column) {
        throw new ColumnNotFoundError(`column "${column.name}" is named, but the file has no header: give its number`);
      }
      out[role] = column ? column.index - 1 : position;
      continue;
    }
    if (column && "index" in column) {
      if (column.index > header.length) throw new ColumnNotFoundError(`${role} column ${column.index} is past the header's ${header.length} columns`);
      out[role] = column.index - 1;
      continue;
    }
    const candidates = column ? [column.name] : specs[role].names;
    const found = candidates.map((candidate) => names.indexOf(headerName(candidate))).find((i) => i >= 0);
    if (found === undefined && (column || required)) {
      const wanted = column ? `"${column.name}"` : `(tried ${candidates.join(", ")}; give --${role}-col)`;
      const hint = column ? "" : " (a file without a header needs --no-header)";
      throw new ColumnNotFoundError(`no ${role} column ${wanted} in the header: ${header.join(", ")}${hint}`);
    }
    out[role] = found;
  }
  return out;
}
