/** Operator routes: the outbox and the signing key ring. */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { decodeCursor, paginate } from "../../lib/cursor.ts";
import { toE164 } from "../../lib/phone.ts";
import { listOutbox } from "../../services/outbox/outbox.ts";
import { allow, bearer, createRouter, json, pageOf, PageQuerySchema } from "../shared/common.ts";
import { ConsentChannelSchema } from "../shared/schemas.ts";

const OutboxMessageSchema = z
  .object({
    id: z.string(),
    memberId: z.string().nullable(),
    channel: ConsentChannelSchema,
    recipient: z.string(),
    subject: z.string().nullable(),
    body: z.string(),
    kind: z.string(),
    status: z.enum(["pending", "sent", "failed"]),
    provider: z.string().nullable(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .openapi("OutboxMessage");

const SigningKeySchema = z
  .object({ kid: z.string(), status: z.string(), createdAt: z.number().int(), retiredAt: z.number().int().nullable() })
  .openapi("SigningKey");

const admin = allow("admin");

export const adminRouter = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/outbox",
      tags: ["Operations"],
      summary: "Messages sent to members (the dev sender only records them)",
      security: bearer,
      middleware: admin,
      request: { query: PageQuerySchema.extend({ recipient: z.string().max(254).optional().openapi({ description: "An email or a phone number" }) }) },
      responses: { 200: json(pageOf(OutboxMessageSchema, "OutboxPage"), "A page of messages"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const recipient = query.recipient?.includes("@") ? query.recipient.toLowerCase() : query.recipient && (toE164(query.recipient) ?? query.recipient);
      return c.json(await listOutbox(c.var.deps, { ...query, recipient }), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/signing-keys",
      tags: ["Operations"],
      summary: "The signing key ring (no private material)",
      security: bearer,
      middleware: admin,
      request: { query: PageQuerySchema },
      responses: { 200: json(pageOf(SigningKeySchema, "SigningKeyPage"), "The keys, newest first"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      // A handful of keys at most: paged in memory, newest first, the cursor being the last kid.
      const keys = (await c.var.deps.keys.list()).sort((a, b) => b.createdAt - a.createdAt || b.kid.localeCompare(a.kid));
      const start = cursor ? keys.findIndex((k) => k.kid === decodeCursor(cursor)) + 1 : 0;
      return c.json(paginate(keys.slice(start), limit, (k) => k.kid), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/signing-keys/rotate",
      tags: ["Operations"],
      summary: "Sign with a new key from now on; the old one keeps verifying until removed",
      security: bearer,
      middleware: admin,
      responses: { 201: json(z.object({ kid: z.string() }), "The new active key"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await c.var.deps.keys.rotate(), 201),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/admin/signing-keys/{kid}",
      tags: ["Operations"],
      summary: "Remove a retired key: tokens it signed stop verifying",
      security: bearer,
      middleware: admin,
      request: { params: z.object({ kid: z.string().min(1).max(64).openapi({ param: { name: "kid", in: "path" } }) }) },
      responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      await c.var.deps.keys.remove(c.req.valid("param").kid);
      return c.body(null, 204);
    },
  );
