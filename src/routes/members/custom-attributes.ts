/**
 * /v1/custom-attributes: typed custom member attributes (admins declare, staff read);
 * /v1/members/{memberId}/attributes: a member's values, checked against the declarations.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CUSTOM_ATTRIBUTE_TYPES, CUSTOM_KEY_PATTERN, MAX_TEXT_VALUE } from "../../domain/segments.ts";
import { errorResponses } from "../shared/problem.ts";
import { declareCustomAttribute, listCustomAttributes, memberAttributesOf, setMemberAttributes } from "../../services/members/custom-attributes.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, MemberParams } from "../shared/common.ts";
import { NO_CONTROL_CHARACTERS } from "../shared/schemas.ts";

const KeyParam = z
  .string()
  .regex(CUSTOM_KEY_PATTERN, "A lower-case letter, then letters, digits or _ (at most 40)")
  .openapi({ param: { name: "key", in: "path" }, example: "marital_status" });

const DeclareSchema = z
  .object({
    type: z.enum(CUSTOM_ATTRIBUTE_TYPES).openapi({ description: "Fixed once declared" }),
    values: z
      .array(z.string().trim().min(1).max(100).regex(NO_CONTROL_CHARACTERS, "No control characters"))
      .min(1)
      .max(50)
      .refine((v) => new Set(v).size === v.length, "Each value once")
      .optional()
      .openapi({ description: "An enum's allowed values (required for enum, refused otherwise); values members hold cannot be removed", example: ["single", "married", "divorced", "widowed"] }),
    description: z.string().trim().min(1).max(500).nullable().optional(),
  })
  .strict()
  .openapi("DeclareCustomAttribute");

export const CustomAttributeSchema = z
  .object({
    key: z.string(),
    type: z.enum(CUSTOM_ATTRIBUTE_TYPES),
    values: z.array(z.string()).nullable(),
    description: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("CustomAttribute");

const AttributeValueSchema = z.union([z.string().max(MAX_TEXT_VALUE), z.number(), z.boolean()]);

const SetAttributesSchema = z
  .object({
    attributes: z
      .record(z.string().regex(CUSTOM_KEY_PATTERN, "Not a custom attribute key"), AttributeValueSchema.nullable())
      .refine((v) => Object.keys(v).length > 0 && Object.keys(v).length <= 50, "Give 1–50 attributes")
      .openapi({ description: "Declared key → value (its declared type); null removes the value. Keys not named are kept.", example: { marital_status: "married", occupation: "engineer", children: 2 } }),
  })
  .strict()
  .openapi("SetMemberAttributes");

export const MemberAttributesSchema = z
  .object({ memberId: z.string(), attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) })
  .openapi("MemberAttributes");


export const customAttributesRouter = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/custom-attributes",
      tags: ["Segments"],
      summary: "The declared custom member attributes (a short list, not paged)",
      security: bearer,
      middleware: allow("admin", "marketer"),
      responses: { 200: json(z.object({ items: z.array(CustomAttributeSchema) }).openapi("CustomAttributeList"), "Every declaration, by key"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ items: await listCustomAttributes(c.var.deps) }, 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/custom-attributes/{key}",
      tags: ["Segments"],
      summary: "Declare a custom member attribute and its type, or change its description or an enum's values",
      security: bearer,
      middleware: allow("admin"),
      request: { params: z.object({ key: KeyParam }), ...jsonBody(DeclareSchema) },
      responses: { 200: json(CustomAttributeSchema, "The declaration"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await declareCustomAttribute(c.var.deps, c.var.principal, c.req.valid("param").key, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/attributes",
      tags: ["Segments"],
      summary: "A member's custom attributes",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams },
      responses: { 200: json(MemberAttributesSchema, "Key → value"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json({ memberId, attributes: await memberAttributesOf(c.var.deps, memberId) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/members/{memberId}/attributes",
      tags: ["Segments"],
      summary: "Set or remove a member's custom attributes, each checked against its declaration",
      security: bearer,
      middleware: allow("admin"),
      request: { params: MemberParams, ...jsonBody(SetAttributesSchema) },
      responses: { 200: json(MemberAttributesSchema, "All of the member's attributes after the change"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await setMemberAttributes(c.var.deps, c.var.principal, c.req.valid("param").memberId, c.req.valid("json").attributes), 200),
  );
