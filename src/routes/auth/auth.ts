/** /v1/auth and /v1/staff: staff password sign-in, member one-time codes, staff accounts. */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { signInRecipient, staffLogin, startMemberSignIn, verifyMemberSignIn } from "../../services/auth/auth.ts";
import { createStaffUser, listStaff } from "../../services/auth/staff.ts";
import { allow, bearer, createRouter, json, jsonBody, keepAliveOf, pageOf, PageQuerySchema } from "../shared/common.ts";
import { ContactSchema, SessionSchema, StaffSchema } from "./schemas.ts";

const LoginSchema = z
  .object({ email: z.email().max(254), password: z.string().min(1).max(200) })
  .strict()
  .openapi("StaffLogin");

const CodeSchema = z.string().regex(/^\d{6}$/, "Six digits");
const VerifyCodeSchema = z
  .union([
    z.object({ email: z.email().max(254), code: CodeSchema }).strict(),
    z.object({ phone: z.string().min(4).max(32), code: CodeSchema }).strict(),
  ])
  .openapi("MemberCodeVerify");

const CreateStaffSchema = z
  .object({
    email: z.email().max(254),
    name: z.string().trim().min(1).max(100),
    role: z.enum(["admin", "marketer"]),
    password: z.string().min(12, "At least 12 characters").max(200),
  })
  .strict()
  .openapi("CreateStaff");

export const authRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/login",
      tags: ["Auth"],
      summary: "Staff sign-in: a short-lived session token",
      request: jsonBody(LoginSchema),
      responses: {
        200: json(SessionSchema.extend({ role: z.enum(["admin", "marketer"]), staffId: z.string() }), "Signed in"),
        ...errorResponses(401),
      },
    }),
    async (c) => c.json(await staffLogin(c.var.deps, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/member/start",
      tags: ["Auth"],
      summary: "Send a member a one-time sign-in code (same answer whether or not the contact is enrolled)",
      request: jsonBody(ContactSchema.openapi("MemberCodeStart")),
      responses: { 202: json(z.object({ status: z.literal("sent") }), "A code is on its way if the contact is enrolled (at most five in 15 minutes)"), ...errorResponses() },
    }),
    async (c) => {
      const contact = c.req.valid("json");
      const { deps } = c.var;
      // Only the contact's form is judged before answering; finding the member, writing the
      // code and sending it run after, so the answer cannot time who is enrolled.
      const recipient = signInRecipient(contact);
      deps.background.run(() => startMemberSignIn(deps, recipient), keepAliveOf(c));
      return c.json({ status: "sent" as const }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/member/verify",
      tags: ["Auth"],
      summary: "Exchange a one-time code for a member token",
      request: jsonBody(VerifyCodeSchema),
      responses: { 200: json(SessionSchema.extend({ memberId: z.string() }), "Signed in"), ...errorResponses(401) },
    }),
    async (c) => c.json(await verifyMemberSignIn(c.var.deps, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/staff",
      tags: ["Auth"],
      summary: "Create a staff user (admin or marketer)",
      security: bearer,
      middleware: allow("admin"),
      request: jsonBody(CreateStaffSchema),
      responses: { 201: json(StaffSchema, "Created"), ...errorResponses(401, 403, 409) },
    }),
    async (c) => c.json(await createStaffUser(c.var.deps, c.var.principal, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/staff",
      tags: ["Auth"],
      summary: "List staff users",
      security: bearer,
      middleware: allow("admin"),
      request: { query: PageQuerySchema },
      responses: { 200: json(pageOf(StaffSchema, "StaffPage"), "A page of staff"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await listStaff(c.var.deps, c.req.valid("query")), 200),
  );
