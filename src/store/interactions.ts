/**
 * Interaction rows: the statements that write a member's interactions, in the same atomic unit as
 * the change they record, so the customer profile never misses or doubles one.
 */
import { rendered, type RenderedStatement, type Statement } from "../../db/database.ts";
import { isContact, type InteractionChannel, type InteractionKind } from "../domain/interactions.ts";
import { newId } from "../lib/ids.ts";
import { contactProfileStatements } from "./profiles.ts";

export interface NewInteraction {
  memberId: string;
  kind: string;
  channel: InteractionChannel;
  partnerId?: string | null;
  storeId?: string | null;
  amountMinor?: number | null;
  /** A number, or SQL evaluated when the unit runs (points that expired). */
  points?: number | RenderedStatement | null;
  reference?: string | null;
  attributes?: Record<string, unknown>;
  occurredAt: number;
}

/** The columns an interaction is written with: its id, its member, then interactionFields. */
const INTERACTION_COLUMNS: RenderedStatement = {
  sql: "id, member_id, kind, channel, partner_id, store_id, amount_minor, points, reference, attributes, occurred_at, created_at",
  params: [],
};

/** Everything an interaction row holds after its id and member, in INTERACTION_COLUMNS' order. */
function interactionFields(interaction: Omit<NewInteraction, "memberId">, now: number): RenderedStatement {
  return rendered`${interaction.kind}, ${interaction.channel}, ${interaction.partnerId ?? null}, ${interaction.storeId ?? null}, ${interaction.amountMinor ?? null},
                  ${interaction.points ?? null}, ${interaction.reference ?? null}, ${interaction.attributes ? JSON.stringify(interaction.attributes) : null},
                  ${interaction.occurredAt}, ${now}`;
}

export function interactionStatement(now: number, interaction: NewInteraction): Statement {
  return rendered`INSERT INTO interactions (${INTERACTION_COLUMNS}) VALUES (${newId("interaction", now)}, ${interaction.memberId}, ${interactionFields(interaction, now)})`;
}

/**
 * The same interaction for each of many members (a segment's entries or exits), in one statement
 * whatever their number: the members and their new interaction ids travel as one JSON parameter,
 * since D1 binds at most 100 per statement.
 */
export function memberInteractionsStatement(now: number, memberIds: readonly string[], interaction: Omit<NewInteraction, "memberId">): Statement {
  const rows = JSON.stringify(memberIds.map((memberId) => [newId("interaction", now), memberId]));
  return rendered`INSERT INTO interactions (${INTERACTION_COLUMNS})
                  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ${interactionFields(interaction, now)} FROM json_each(${rows})`;
}

/**
 * An interaction other than a purchase, refund or expiry (an enrolment, a card scan, a tier
 * change) with its share of the profile: for the statement list of the unit that caused it.
 */
export function recordedInteractionStatements(now: number, interaction: NewInteraction & { kind: InteractionKind }): Statement[] {
  return [interactionStatement(now, interaction), ...contactProfileStatements(now, { memberId: interaction.memberId, at: interaction.occurredAt, isContact: isContact(interaction.kind) })];
}
