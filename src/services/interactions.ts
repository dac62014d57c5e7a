/**
 * Interactions: every purchase, refund and other touch point of a member, typed, written in the
 * same atomic unit as the change it records so the customer profile never misses or doubles one.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Statement } from "../../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../lib/ids.ts";

/** Where it happened; "system" for what dangol itself does (points expiring). */
export type InteractionChannel = "store" | "web" | "app" | "call_centre" | "email" | "sms" | "system";

export interface NewInteraction {
  memberId: string;
  kind: string;
  channel: InteractionChannel;
  partnerId?: string | null;
  storeId?: string | null;
  amountMinor?: number | null;
  /** Points moved; SQL when the unit computes them as it runs (expiry). */
  points?: number | SQL | null;
  reference?: string | null;
  attributes?: Record<string, unknown>;
  occurredAt: number;
}

export function interactionStatement(deps: Deps, interaction: NewInteraction): Statement {
  const now = deps.clock();
  return sql`INSERT INTO interactions (id, member_id, kind, channel, partner_id, store_id, amount_minor, points, reference, attributes, occurred_at, created_at)
             VALUES (${newId("interaction", now)}, ${interaction.memberId}, ${interaction.kind}, ${interaction.channel}, ${interaction.partnerId ?? null},
                     ${interaction.storeId ?? null}, ${interaction.amountMinor ?? null}, ${interaction.points ?? null}, ${interaction.reference ?? null},
                     ${interaction.attributes ? JSON.stringify(interaction.attributes) : null}, ${interaction.occurredAt}, ${now})`;
}
