/**
 * Interactions: every purchase, refund and other touch point of a member, typed, written in the
 * same atomic unit as the change it records so the customer profile never misses or doubles one.
 */
import { sql } from "drizzle-orm";
import type { Statement } from "../../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../lib/ids.ts";

export type InteractionChannel = "store" | "web" | "app" | "call_centre" | "email" | "sms";

export interface NewInteraction {
  memberId: string;
  kind: string;
  channel: InteractionChannel;
  partnerId?: string | null;
  storeId?: string | null;
  amountMinor?: number | null;
  points?: number | null;
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
