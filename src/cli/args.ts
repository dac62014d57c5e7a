/** What the operator commands share: reading flags and files, opening the database. Node only. */
import { existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ColumnRef, Delimiter } from "../domain/delimited.ts";
import { parseCalendarDate } from "../domain/delimited.ts";

/** A problem with the command line itself: exit code 2. */
export class UsageError extends Error {}

/** The flags every command that reads a delimited file takes. */
export const delimitedFileFlags = {
  "id-col": { type: "string" },
  "date-col": { type: "string" },
  "amount-col": { type: "string" },
  "date-format": { type: "string" },
  "currency-scale": { type: "string" },
  delimiter: { type: "string" },
  "no-header": { type: "boolean" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Positionals and strictly the given flags; an unknown flag or a missing value is a UsageError. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (error) {
    // parseArgs throws a TypeError naming the unknown flag or the missing value.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function delimiterOf(value: string): Delimiter {
  const named: Record<string, Delimiter> = { auto: "auto", comma: ",", tab: "\t", "\\t": "\t", semicolon: ";", whitespace: "whitespace", space: "whitespace" };
  const delimiter = named[value] ?? value;
  if (delimiter !== "auto" && delimiter !== "whitespace" && delimiter.length !== 1) {
    throw new UsageError(`--delimiter must be comma, tab, semicolon, whitespace or one character, not ${JSON.stringify(value)}`);
  }
  if (delimiter === '"') throw new UsageError("--delimiter cannot be a quote");
  return delimiter;
}

export function optionalColumn(flag: string, value: string | undefined): ColumnRef | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const index = Number(value);
    if (index < 1) throw new UsageError(`${flag} counts columns from 1`);
    return { index };
  }
  if (value.trim() === "") throw new UsageError(`${flag} needs a column number or header name`);
  return { name: value };
}

export function optionalDate(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = parseCalendarDate(value, "auto");
  if (at === undefined) throw new UsageError(`${flag} must be a date such as 1997-09-30, not ${JSON.stringify(value)}`);
  return at;
}

/** A positive whole number of minor units per unit of money (1, 100, 1000). */
export function currencyScaleOf(value: string): number {
  const scale = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(scale) || scale < 1) {
    throw new UsageError(`--currency-scale must be a whole number of minor units per unit, such as 100, not ${JSON.stringify(value)}`);
  }
  return scale;
}

/** Drops a UTF-8 byte-order mark from the first line, as spreadsheet exports often start with one. */
export async function* withoutByteOrderMark(lines: AsyncIterable<string>): AsyncIterable<string> {
  let first = true;
  for await (const line of lines) {
    yield first ? line.replace(/^\uFEFF/, "") : line;
    first = false;
  }
}

export const count = (n: number) => n.toLocaleString("en-US");
export const fixed = (n: number, digits: number) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * Runs `work` against DATABASE_PATH, which must exist (a mistyped path would otherwise become a new,
 * empty database) and be migrated. The database modules load only here, so a file-only command starts fast.
 */
export async function withDatabase<T>(work: (deps: import("../deps.ts").Deps, path: string) => Promise<T>): Promise<T> {
  // Not node.ts: it loads the whole app (every route), which would triple the start-up time.
  const [{ parseConfig }, { openSqlite }, { createDeps }] = await Promise.all([import("../config.ts"), import("../../db/sqlite.ts"), import("../deps.ts")]);
  const config = parseConfig(process.env);
  if (config.DATABASE_PATH !== ":memory:" && !existsSync(config.DATABASE_PATH)) {
    throw new UsageError(`no database at ${config.DATABASE_PATH} (set DATABASE_PATH, or create it with dangol migrate)`);
  }
  const database = openSqlite(config.DATABASE_PATH);
  const deps = createDeps({ config, database });
  try {
    return await work(deps, config.DATABASE_PATH);
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message)) {
      throw new UsageError(`${config.DATABASE_PATH} is not migrated (${error.message}): run dangol migrate first`);
    }
    throw error;
  } finally {
    await database.close();
  }
}
