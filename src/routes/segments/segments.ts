/** /v1/segments: rule segments — preview, save, read, change, refresh — for admins and marketers. */
import { createRoute, z } from "@hono/zod-openapi";
import { CUSTOM_ATTRIBUTE_TYPES, MAX_RULE_DEPTH, MAX_RULE_NODES, RuleSchema, SEGMENT_ATTRIBUTES, SEGMENT_OPS, opsFor } from "../../domain/segments.ts";
import { errorResponses } from "../shared/problem.ts";
import { createSegment, findSegment, listSegmentMembers, listSegments, previewSegment, refreshSegment, segmentView, updateSegment } from "../../services/segments/segments.ts";
import { allow, bearer, createRouter, json, jsonBody, pageOf, PageQuerySchema, SegmentParams } from "../shared/common.ts";
import { NO_CONTROL_CHARACTERS } from "../shared/schemas.ts";

const Text = (max: number) => z.string().trim().min(1).max(max).regex(NO_CONTROL_CHARACTERS, "No control characters");

const attributeTable = Object.entries(SEGMENT_ATTRIBUTES)
  .map(([name, spec]) => `- \`${name}\` (${spec.type}${"windowed" in spec ? ", with `days`" : ""}; ${opsFor(spec).join(", ")}): ${spec.description}`)
  .join("\n");

export const SegmentRuleSchema = RuleSchema.openapi("SegmentRule", {
  type: "object",
  description: [
    `A condition tree: \`{all: [...]}\`, \`{any: [...]}\`, \`{not: {...}}\` and comparisons \`{attr, op, value}\` (\`days\` for windows).`,
    `At most ${MAX_RULE_DEPTH} levels and ${MAX_RULE_NODES} nodes. Operators: ${SEGMENT_OPS.join(", ")}; \`in\`/\`nin\` take a list, \`between\` takes [low, high] (both included), \`exists\` takes no value.`,
    "A comparison on a missing value (no birth date, not scored yet, never bought) is false, neq and nin included; `exists` asks for members who have one. Only active members are ever matched.",
    `Attributes:\n${attributeTable}\n- \`custom.<key>\`: a declared custom attribute (${CUSTOM_ATTRIBUTE_TYPES.join(", ")}; PUT /v1/custom-attributes/{key})`,
  ].join("\n\n"),
  example: { all: [{ attr: "tier", op: "gte", value: "gold" }, { attr: "spendWithin", days: 90, op: "gte", value: 100_000 }, { attr: "consent.email", op: "eq", value: true }] },
});

const PreviewSchema = z.object({ rule: SegmentRuleSchema }).strict().openapi("SegmentPreviewRequest");

const CreateSegmentSchema = z
  .object({ name: Text(100).openapi({ example: "Gold+ big spenders" }), description: Text(500).optional(), rule: SegmentRuleSchema })
  .strict()
  .openapi("CreateSegment");

const UpdateSegmentSchema = z
  .object({ name: Text(100).optional(), description: Text(500).nullable().optional(), rule: SegmentRuleSchema.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateSegment");

const SampleMemberSchema = z.object({
  memberId: z.string(),
  displayName: z.string().openapi({ example: "김*준", description: "Masked name (or the preferred name); no contact details" }),
  tier: z.string(),
});

export const SegmentPreviewSchema = z
  .object({
    count: z.number().int().openapi({ description: "Active members the rule matches now" }),
    sample: z.array(SampleMemberSchema).openapi({ description: "The newest 20 of them" }),
    evaluatedAt: z.string(),
  })
  .openapi("SegmentPreview");

export const SegmentSchema = z
  .object({
    id: z.string().openapi({ example: "seg_01JD0000000000000000000000" }),
    name: z.string(),
    description: z.string().nullable(),
    rule: SegmentRuleSchema,
    memberCount: z.number().int().openapi({ description: "Members as of the last refresh" }),
    refreshedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Segment");

const SegmentMemberSchema = SampleMemberSchema.extend({ enteredAt: z.string() }).openapi("SegmentMember");

const RefreshResultSchema = z
  .object({
    segmentId: z.string(),
    entered: z.number().int(),
    left: z.number().int(),
    memberCount: z.number().int(),
    refreshedAt: z.string(),
  })
  .openapi("SegmentRefresh");

const STAFF = ["admin", "marketer"] as const;

export const segmentsRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/segments/preview",
      tags: ["Segments"],
      summary: "Count the active members a rule matches now, with a sample of 20 (ids, masked names, tiers)",
      security: bearer,
      middleware: allow(...STAFF),
      request: jsonBody(PreviewSchema),
      responses: { 200: json(SegmentPreviewSchema, "The count and a sample"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await previewSegment(c.var.deps, c.req.valid("json").rule), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/segments",
      tags: ["Segments"],
      summary: "Save a segment and materialise its membership (each member entering is a segment_enter interaction)",
      security: bearer,
      middleware: allow(...STAFF),
      request: jsonBody(CreateSegmentSchema),
      responses: { 201: json(SegmentSchema, "Created, with its members"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await createSegment(c.var.deps, c.var.principal, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/segments",
      tags: ["Segments"],
      summary: "List segments, newest first",
      security: bearer,
      middleware: allow(...STAFF),
      request: { query: PageQuerySchema },
      responses: { 200: json(pageOf(SegmentSchema, "SegmentPage"), "A page of segments"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await listSegments(c.var.deps, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/segments/{segmentId}",
      tags: ["Segments"],
      summary: "Read a segment",
      security: bearer,
      middleware: allow(...STAFF),
      request: { params: SegmentParams },
      responses: { 200: json(SegmentSchema, "The segment"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(segmentView(await findSegment(c.var.deps, c.req.valid("param").segmentId)), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/segments/{segmentId}",
      tags: ["Segments"],
      summary: "Rename a segment or change its rule (the membership is refreshed at once; a cycle through inSegment is refused)",
      security: bearer,
      middleware: allow(...STAFF),
      request: { params: SegmentParams, ...jsonBody(UpdateSegmentSchema) },
      responses: { 200: json(SegmentSchema, "Updated"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await updateSegment(c.var.deps, c.var.principal, c.req.valid("param").segmentId, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/segments/{segmentId}/members",
      tags: ["Segments"],
      summary: "The segment's members as of its last refresh, newest members first",
      security: bearer,
      middleware: allow(...STAFF),
      request: { params: SegmentParams, query: PageQuerySchema },
      responses: { 200: json(pageOf(SegmentMemberSchema, "SegmentMemberPage"), "A page of members"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await listSegmentMembers(c.var.deps, c.req.valid("param").segmentId, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/segments/{segmentId}/refresh",
      tags: ["Segments"],
      summary: "Recompute the membership now: new members enter, leavers leave (segment_enter / segment_leave interactions); idempotent",
      security: bearer,
      middleware: allow(...STAFF),
      request: { params: SegmentParams },
      responses: { 200: json(RefreshResultSchema, "What changed"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await refreshSegment(c.var.deps, c.req.valid("param").segmentId), 200),
  );
