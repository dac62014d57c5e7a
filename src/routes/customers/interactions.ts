/** /v1/interactions: events partners and staff send in; /v1/members/{memberId}/interactions: a member's history. */
import { createRoute, z } from "@hono/zod-openapi";
import { eventKinds, interactionKinds, InteractionEventSchema } from "../../domain/interactions.ts";
import { errorResponses } from "../shared/problem.ts";
import { ingestInteractions, listMemberInteractions, MAX_EVENTS_PER_CALL } from "../../services/customers/interactions.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, MemberParams, pageOf, PageQuerySchema } from "../shared/common.ts";

/** Bodies of POST /v1/interactions may be this large (1,000 events); every other route keeps 64 KiB. */
export const INGEST_BODY_LIMIT_BYTES = 1024 * 1024;

const EventSchema = InteractionEventSchema.openapi("InteractionEvent");

// Each event is validated on its own by the service, so that one bad event does not fail the
// batch: here an item is anything, documented by reference as the schema the service applies.
const IngestSchema = z
  .object({
    events: z
      .array(z.unknown().openapi({ allOf: [{ $ref: "#/components/schemas/InteractionEvent" }] }))
      .min(1)
      .max(MAX_EVENTS_PER_CALL)
      .openapi({ description: `1–${MAX_EVENTS_PER_CALL} events; each is accepted, found a duplicate, or rejected on its own` }),
  })
  .strict()
  .openapi("IngestInteractions");

const FieldErrorSchema = z.object({ field: z.string().openapi({ example: "events.3.occurredAt" }), message: z.string() });

const IngestResultSchema = z
  .object({
    accepted: z.number().int().openapi({ description: "Events recorded by this call" }),
    duplicates: z.number().int().openapi({ description: "Events already recorded from the same sender (earlier, or earlier in this batch)" }),
    rejected: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        eventId: z.string().nullable(),
        status: z.enum(["created", "duplicate", "rejected"]),
        interactionId: z.string().optional().openapi({ description: "The recorded interaction (for a duplicate, the one recorded first)" }),
        errors: z.array(FieldErrorSchema).optional(),
      }),
    ),
  })
  .openapi("IngestResult");

export const InteractionSchema = z
  .object({
    id: z.string(),
    kind: z.string().openapi({ description: `${interactionKinds.join(", ")}` }),
    channel: z.string(),
    partnerId: z.string().nullable(),
    storeId: z.string().nullable(),
    amountMinor: z.number().int().nullable(),
    points: z.number().int().nullable(),
    reference: z.string().nullable(),
    score: z.number().int().nullable().openapi({ description: "A satisfaction event's score, 1–5" }),
    attributes: z.record(z.string(), z.unknown()).nullable(),
    source: z.string().nullable().openapi({ description: "Who sent an ingested event (partner:prt_…, staff); null for what dangol recorded itself" }),
    eventId: z.string().nullable().openapi({ description: "The sender's own id for an ingested event" }),
    occurredAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi("Interaction");

const ListQuerySchema = PageQuerySchema.extend({
  kind: z.enum(interactionKinds).optional().openapi({ description: "Only interactions of this kind" }),
});


export const interactionsRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/interactions",
      tags: ["Customers"],
      summary: "Record up to 1,000 events (calls, complaints, scores, visits, opened messages …), each judged on its own",
      description: `Kinds: ${eventKinds.join(", ")}. A partner key needs the interactions:write scope and sends events of its own partner only. An event whose eventId was already recorded from the same sender is a duplicate, counted once. The answer is 200 with one result per event, whatever each result is; bodies may be up to 1 MiB.`,
      security: bearer,
      middleware: allow("partner", "admin", { scope: "interactions:write" }),
      request: jsonBody(IngestSchema),
      responses: { 200: json(IngestResultSchema, "One result per event, in order"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await ingestInteractions(c.var.deps, c.var.principal, c.req.valid("json").events), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/interactions",
      tags: ["Customers"],
      summary: "The member's interactions, newest first",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams, query: ListQuerySchema },
      responses: { 200: json(pageOf(InteractionSchema, "InteractionPage"), "A page of interactions"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await listMemberInteractions(c.var.deps, memberId, c.req.valid("query")), 200);
    },
  );

// The event schema is referenced from the body above rather than used in it, so register it.
interactionsRouter.openAPIRegistry.register("InteractionEvent", EventSchema);
