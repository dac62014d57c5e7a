/** Members' requests and answers: enrolment, changes, the member record and the PIN. */
import { z } from "@hono/zod-openapi";
import { genders } from "../../domain/members.ts";
import { PIN_MAX_ATTEMPTS } from "../../domain/pin.ts";
import { ConsentChannelSchema, PinSchema, SingleLineSchema } from "../shared/schemas.ts";

export const BirthDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use YYYY-MM-DD")
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), "Not a real date")
  .refine((v) => v >= "1900-01-01", "Must be 1900-01-01 or later") // "not in the future" is checked against the app's clock
  .openapi({ example: "1991-04-12" });

const NameSchema = SingleLineSchema(100);

export const GenderSchema = z.enum(genders);

export const EnrollMemberSchema = z
  .object({
    name: NameSchema.openapi({ example: "김민준" }),
    preferredName: NameSchema.nullish().openapi({ description: "What partners greet the member by; defaults to a masked name" }),
    email: z.email().max(254).nullish().openapi({ example: "minjun@example.com" }),
    phone: z.string().min(4).max(32).nullish().openapi({ example: "010-1234-5678", description: "Normalised to E.164 (Korean local format accepted)" }),
    birthDate: BirthDateSchema.nullish(),
    gender: GenderSchema.nullish(),
    region: SingleLineSchema(100).nullish().openapi({ example: "서울 강남구" }),
    marketingConsent: z
      .object({
        channels: z.array(ConsentChannelSchema).min(1).max(3),
        source: z.string().trim().min(1).max(100).openapi({ example: "signup-form" }),
      })
      .strict()
      .optional()
      .openapi({ description: "Recorded separately with purpose, channel, time and source" }),
  })
  .strict()
  .openapi("EnrollMember");

export const UpdateMemberSchema = EnrollMemberSchema.omit({ marketingConsent: true })
  .extend({ name: NameSchema.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateMember");

export const MemberSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    preferredName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    birthDate: z.string().nullable(),
    gender: GenderSchema.nullable(),
    region: z.string().nullable(),
    tier: z.string(),
    status: z.enum(["active", "closed"]),
    consents: z.array(
      z.object({ purpose: z.string(), channel: z.string(), granted: z.boolean(), source: z.string(), recordedAt: z.string() }),
    ),
    pin: z
      .object({ set: z.boolean(), locked: z.boolean() })
      .openapi({ description: `Whether the member has set a PIN for the till, and whether ${PIN_MAX_ATTEMPTS} wrong entries in a row have locked it (until the member sets a new one)` }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Member");

export const MemberPinSchema = z
  .object({ pin: PinSchema.openapi({ example: "583071", description: "4 to 6 digits; runs (1234), repeats (0000, 1212) and the most common PINs are refused" }) })
  .strict()
  .openapi("MemberPin");

export type EnrollMemberBody = z.infer<typeof EnrollMemberSchema>;
export type Member = z.infer<typeof MemberSchema>;
