/**
 * Messages to members go through the outbox: written in the same unit as the change that causes
 * them, then handed to a sender. The dev sender only records delivery; real channels come later.
 */
import type { ConsentChannel } from "../../domain/members.ts";
import { and, eq } from "drizzle-orm";
import { outbox } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { newestFirst } from "../../store/page.ts";
import { newId } from "../../lib/ids.ts";
import { isoTime, isoTimeOrNull } from "../../lib/time.ts";

export interface OutgoingMessage {
  memberId: string | null;
  channel: ConsentChannel;
  recipient: string;
  subject?: string;
  body: string;
  kind: string;
}

export function queueMessage(deps: Deps, message: OutgoingMessage) {
  const now = deps.clock();
  const id = newId("message", now);
  const statement = deps.database.db.insert(outbox).values({
    id,
    memberId: message.memberId,
    channel: message.channel,
    recipient: message.recipient,
    subject: message.subject ?? null,
    body: message.body,
    kind: message.kind,
    status: "pending",
    createdAt: now,
  });
  return { id, statement };
}

/** The development sender: marks a message sent without sending it anywhere. */
export async function deliverWithDevSender(deps: Deps, messageId: string) {
  await deps.database.atomic([
    deps.database.db
      .update(outbox)
      .set({ status: "sent", provider: "dev", sentAt: deps.clock() })
      .where(and(eq(outbox.id, messageId), eq(outbox.status, "pending"))),
  ]);
}

/** Delivers every pending message with the dev sender (the scheduled jobs call this). */
export async function deliverPendingWithDevSender(deps: Deps) {
  await deps.database.atomic([
    deps.database.db.update(outbox).set({ status: "sent", provider: "dev", sentAt: deps.clock() }).where(eq(outbox.status, "pending")),
  ]);
}

export async function listOutbox(deps: Deps, query: { recipient?: string | undefined; cursor?: string | undefined; limit: number }) {
  const page = await newestFirst(deps.database.db, outbox, query, query.recipient ? eq(outbox.recipient, query.recipient) : undefined);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      memberId: r.memberId,
      channel: r.channel,
      recipient: r.recipient,
      subject: r.subject,
      body: r.body,
      kind: r.kind,
      status: r.status,
      provider: r.provider,
      createdAt: isoTime(r.createdAt),
      sentAt: isoTimeOrNull(r.sentAt),
    })),
    nextCursor: page.nextCursor,
  };
}
