/**
 * Group commit on one better-sqlite3 connection: the units that arrive while the event loop is
 * busy are written in one IMMEDIATE transaction, each inside its own savepoint (a failing unit
 * rolls back alone), and become durable with one fsync. A unit's promise settles only after that
 * commit. Used in-process and by the writer thread (db/sqlite-writer.ts) alike.
 */
import type BetterSqlite3 from "better-sqlite3";

/** At most this many units share one commit, so a burst never makes one request wait long. */
const MAX_UNITS_PER_COMMIT = 256;

interface PendingUnit<S> {
  statements: S[];
  resolve(changes: number[]): void;
  reject(error: unknown): void;
}

export interface CommitQueue<S> {
  /** Queues a unit; resolves to the rows each statement changed once its commit is durable. */
  enqueue(statements: S[]): Promise<number[]>;
  /** Commits whatever is queued, now (before closing the connection). */
  flush(): void;
}

export function createCommitQueue<S>(sqlite: BetterSqlite3.Database, execute: (statement: S) => number): CommitQueue<S> {
  const queue: Array<PendingUnit<S>> = [];
  let scheduled = false;

  function commitQueued() {
    scheduled = false;
    const units = queue.splice(0, MAX_UNITS_PER_COMMIT);
    if (queue.length) schedule();
    const outcomes: Array<{ changes: number[] } | { error: unknown }> = [];
    try {
      sqlite.exec("BEGIN IMMEDIATE");
      for (const unit of units) {
        sqlite.exec("SAVEPOINT unit");
        try {
          outcomes.push({ changes: unit.statements.map(execute) });
          sqlite.exec("RELEASE unit");
        } catch (error) {
          sqlite.exec("ROLLBACK TO unit");
          sqlite.exec("RELEASE unit");
          outcomes.push({ error });
        }
      }
      sqlite.exec("COMMIT");
    } catch (error) {
      // BEGIN or COMMIT failed (e.g. the disk): nothing of this group is acknowledged.
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
      for (const unit of units) unit.reject(error);
      return;
    }
    units.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) unit.reject(outcome.error);
      else unit.resolve(outcome.changes);
    });
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(commitQueued);
  }

  return {
    enqueue(statements) {
      return new Promise<number[]>((resolve, reject) => {
        queue.push({ statements, resolve, reject });
        schedule();
      });
    },
    flush() {
      while (queue.length) commitQueued();
    },
  };
}
