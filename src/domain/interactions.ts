/**
 * Interactions: the closed set of kinds, the channels they happen on, which of them count as a
 * contact, and the shape of an event that partners and staff send in. Pure: no database, no HTTP.
 */
import { z } from "../lib/zod.ts";

/** What partners and staff may send: touch points dangol cannot see for itself. */
export const eventKinds = [
  "call",
  "complaint",
  "satisfaction",
  "web_visit",
  "app_open",
  "email_open",
  "email_click",
  "sms_click",
  "store_visit",
  "campaign_response",
] as const;
export type EventKind = (typeof eventKinds)[number];

/** What only dangol records, in the unit of the change itself: never accepted from outside. */
export const systemKinds = ["enrolment", "purchase", "refund", "void", "points_expired", "card_scan", "tier_change", "segment_enter", "segment_leave"] as const;

export const interactionKinds = [...systemKinds, ...eventKinds] as const;
export type InteractionKind = (typeof interactionKinds)[number];

export const eventChannels = ["store", "web", "app", "call_centre", "email", "sms"] as const;
export type EventChannel = (typeof eventChannels)[number];
/** Where it happened; "system" for what dangol itself does (points expiring). */
export type InteractionChannel = EventChannel | "system";

/**
 * A contact is the member talking to the program or answering it — a call, a complaint, a score,
 * an opened or clicked message, a reply to a campaign. A visit (web, app, store) is not one: it
 * counts as an interaction but does not move "last contact".
 */
const contactKinds: ReadonlySet<string> = new Set<EventKind>(["call", "complaint", "satisfaction", "email_open", "email_click", "sms_click", "campaign_response"]);

export function isContact(kind: string): boolean {
  return contactKinds.has(kind);
}

/** Kinds that can only happen on one channel; the others (a complaint, a score) on any. */
const channelOfKind: Partial<Record<EventKind, EventChannel>> = {
  web_visit: "web",
  app_open: "app",
  email_open: "email",
  email_click: "email",
  sms_click: "sms",
  store_visit: "store",
};

/** Where a satisfaction score is kept in the stored attributes (so no attribute may use the name). */
export const SCORE_ATTRIBUTE = "score";
export const MAX_ATTRIBUTES_BYTES = 2048;
/** Nothing happened before the program could have existed. */
export const EARLIEST_EVENT_MS = Date.UTC(2000, 0, 1);

const Text = (max: number) => z.string().min(1).max(max).regex(/^[^\x00-\x1f\x7f]+$/, "No control characters");

const AttributesSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1–64 letters, digits, _ . : -"),
    z.union([z.string().max(500), z.number(), z.boolean()], { error: "A string (at most 500 characters), a number or a boolean: attributes are flat" }),
  )
  .refine((attributes) => new TextEncoder().encode(JSON.stringify(attributes)).length <= MAX_ATTRIBUTES_BYTES, `At most ${MAX_ATTRIBUTES_BYTES} bytes as JSON`);

/** One event as sent; checks that need the clock or the database are the service's. */
export const InteractionEventSchema = z
  .object({
    eventId: z.string().regex(/^[\x21-\x7e]{1,128}$/, "1–128 visible ASCII characters").describe("The sender's own id for the event: a resend is recognised as a duplicate"),
    memberId: Text(64),
    kind: z.enum(eventKinds),
    channel: z.enum(eventChannels),
    occurredAt: z.iso.datetime({ offset: true }).describe("ISO-8601 with an offset; from 2000 until 5 minutes ahead of the server's clock"),
    partnerId: Text(64).optional().describe("A partner key sends its own (or nothing, which means its own)"),
    storeId: Text(64).optional().describe("A store of partnerId"),
    amountMinor: z.number().int().min(-1e12).max(1e12).optional().describe("Informational: no money moves"),
    points: z.number().int().min(-1e9).max(1e9).optional().describe("Informational: no points move"),
    reference: Text(128).optional().describe("The sender's case, ticket or campaign id"),
    score: z.number().int().min(1).max(5).optional().describe("1–5, required for a satisfaction event and only for it"),
    attributes: AttributesSchema.optional().describe(`A flat object of strings, numbers and booleans, at most ${MAX_ATTRIBUTES_BYTES} bytes as JSON`),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (Date.parse(event.occurredAt) < EARLIEST_EVENT_MS) ctx.addIssue({ code: "custom", path: ["occurredAt"], message: "Not before 2000" });
    if (event.kind === "satisfaction" && event.score === undefined) ctx.addIssue({ code: "custom", path: ["score"], message: "A satisfaction event needs a score (1–5)" });
    if (event.kind !== "satisfaction" && event.score !== undefined) ctx.addIssue({ code: "custom", path: ["score"], message: "Only a satisfaction event has a score" });
    if (event.kind === "satisfaction" && event.attributes && SCORE_ATTRIBUTE in event.attributes) {
      ctx.addIssue({ code: "custom", path: ["attributes", SCORE_ATTRIBUTE], message: "Reserved: send the score as `score`" });
    }
    const channel = channelOfKind[event.kind];
    if (channel && event.channel !== channel) ctx.addIssue({ code: "custom", path: ["channel"], message: `A ${event.kind} happens on the ${channel} channel` });
  });
export type InteractionEvent = z.infer<typeof InteractionEventSchema>;
