/** /v1/members: enrollment, read, update, search, and the member's cards. */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { issueCard, listMemberCards } from "../../services/cards/cards.ts";
import { removeMemberPin } from "../../services/members/pins.ts";
import { enrollMember, getMember, searchMembers, updateMember } from "../../services/members/members.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, MemberParams, pageOf, PageQuerySchema } from "../shared/common.ts";
import { CardSchema } from "../cards/schemas.ts";
import { EnrollMemberSchema, MemberSchema, UpdateMemberSchema } from "./schemas.ts";


export const membersRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/members",
      tags: ["Members"],
      summary: "Enrol a member",
      security: bearer,
      middleware: allow("admin"),
      request: jsonBody(EnrollMemberSchema),
      responses: { 201: json(MemberSchema, "Enrolled"), ...errorResponses(401, 403, 409) },
    }),
    async (c) => c.json(await enrollMember(c.var.deps, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members",
      tags: ["Members"],
      summary: "Search members by name, email, phone or card number",
      security: bearer,
      middleware: allow("admin", "marketer"),
      request: { query: PageQuerySchema.extend({ q: z.string().trim().max(100).optional() }) },
      responses: { 200: json(pageOf(MemberSchema, "MemberPage"), "A page of members"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await searchMembers(c.var.deps, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}",
      tags: ["Members"],
      summary: "Read a member",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams },
      responses: { 200: json(MemberSchema, "The member"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await getMember(c.var.deps, memberId), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/members/{memberId}",
      tags: ["Members"],
      summary: "Update a member's details",
      security: bearer,
      middleware: allow("admin", "member"),
      request: { params: MemberParams, ...jsonBody(UpdateMemberSchema) },
      responses: { 200: json(MemberSchema, "The updated member"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await updateMember(c.var.deps, c.var.principal, memberId, c.req.valid("json")), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/members/{memberId}/pin",
      operationId: "clearMemberPin",
      tags: ["Members"],
      summary: "Clear a member's PIN, locked or not (audited): the member sets a new one in the wallet",
      description: "Staff never see or set a PIN; the member's record says only whether one is set and whether it is locked.",
      security: bearer,
      middleware: allow("admin"),
      request: { params: MemberParams },
      responses: { 204: { description: "Cleared (or there was none)" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      await removeMemberPin(c.var.deps, c.var.principal, c.req.valid("param").memberId);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/members/{memberId}/cards",
      tags: ["Cards"],
      summary: "Issue a card to a member (one active card each)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: MemberParams },
      responses: { 201: json(CardSchema, "The new card"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await issueCard(c.var.deps, c.var.principal, c.req.valid("param").memberId), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/cards",
      tags: ["Cards"],
      summary: "A member's cards, current and past",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: MemberParams, query: PageQuerySchema },
      responses: { 200: json(pageOf(CardSchema, "CardPage"), "A page of cards"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await listMemberCards(c.var.deps, memberId, c.req.valid("query")), 200);
    },
  );
