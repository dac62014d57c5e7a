/**
 * The one page query: newest first by an id-like key (ULIDs sort by time), `limit + 1` rows read
 * to know whether another page follows, the cursor the last row's key. Every list uses it.
 */
import { and, desc, getTableColumns, lt, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../../db/database.ts";
import { decodeCursor, paginate } from "../lib/cursor.ts";

export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Row<T extends SQLiteTable> = T["$inferSelect"];

/** A page of `table`'s rows matching `where`, newest `key` first (by default the id). */
export async function newestFirst<T extends SQLiteTable>(
  db: Db,
  table: T,
  page: PageRequest,
  where?: SQL,
  key: keyof Row<T> & string = "id",
): Promise<Page<Row<T>>> {
  const column = getTableColumns(table)[key];
  if (!column) throw new Error(`${key} is not a column`);
  const rows = (await db
    .select()
    .from(table as SQLiteTable)
    .where(and(where, page.cursor ? lt(column, decodeCursor(page.cursor)) : undefined))
    .orderBy(desc(column))
    .limit(page.limit + 1)) as Row<T>[];
  return paginate(rows, page.limit, (row) => String(row[key]));
}
