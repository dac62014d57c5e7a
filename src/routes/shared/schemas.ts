/** Primitives several resources' schemas build on; each resource's own schemas sit beside its routes. */
import { z } from "@hono/zod-openapi";
import { consentChannels } from "../../domain/members.ts";
import { PIN_PATTERN } from "../../domain/pin.ts";

/**
 * No control character (Unicode category Cc), written as ranges rather than `\p{Cc}`: a pattern
 * needing the `u` flag was published with `/u` inside it, which no value can match.
 */
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]+$/;

/**
 * A line of text: a name, a region. Every body is already free of other control characters and
 * lone surrogates (src/lib/json-limits.ts); these refuse tabs and line breaks too.
 */
export const SingleLineSchema = (max: number) =>
  z.string().trim().min(1, "Required").max(max).refine((text) => !/[\t\n\r]/.test(text), "One line: no tabs or line breaks");

export const ConsentChannelSchema = z.enum(consentChannels);

export const PinSchema = z.string().regex(PIN_PATTERN, "4 to 6 digits");
