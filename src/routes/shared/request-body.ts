/**
 * Every request body is read here, once, before authentication and validation: bounded in bytes,
 * decoded as strict UTF-8 and, when it is JSON, parsed and held to JSON_LIMITS. What passes is
 * left in Hono's body cache, so the route's validator reads the same text without reading the
 * stream again.
 */
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../../errors.ts";
import { problemResponse } from "./problem.ts";
import { checkJsonBounds } from "../../lib/json-limits.ts";
import type { AppEnv } from "./common.ts";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

class BodyTooLarge extends Error {}

/** The body's bytes, or BodyTooLarge as soon as it passes maxSize, whether it is declared or chunked. */
async function readAtMost(request: Request, maxSize: number): Promise<Uint8Array> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxSize) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Hono keeps each read of the body as a promise under its method's name (its type says the method). */
function cacheBody(c: Context<AppEnv>, read: "text" | "arrayBuffer", value: unknown) {
  (c.req.bodyCache as Record<string, Promise<unknown>>)[read] = Promise.resolve(value);
}

export function boundedBody(maxSizeFor: (c: Context<AppEnv>) => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.req.raw.body) return next();
    const maxSize = maxSizeFor(c);
    const tooLarge = () => problemResponse(c, new AppError("payload_too_large", `Request bodies are limited to ${maxSize} bytes.`));
    if (Number(c.req.header("content-length") ?? 0) > maxSize) return tooLarge();
    let bytes: Uint8Array;
    try {
      bytes = await readAtMost(c.req.raw, maxSize);
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge();
      // A broken chunked encoding or a client that hung up: its fault, not a failure of ours.
      c.var.deps.logger.debug("request body unreadable", { requestId: c.get("requestId") });
      return problemResponse(c, new AppError("malformed_request", "The request body could not be read."));
    }
    const contentType = c.req.header("content-type")?.split(";")[0]?.trim() ?? "";
    // An empty body is no body, whatever its content type says (clients send application/json on
    // every call): a route that takes none runs, and one that needs one says it is missing.
    if (bytes.length === 0 || !JSON_MEDIA_TYPE.test(contentType)) {
      cacheBody(c, "arrayBuffer", bytes.buffer);
      return next();
    }
    let text: string;
    let value: unknown;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      return problemResponse(c, new AppError("malformed_request", "The request body is not valid UTF-8."));
    }
    try {
      value = JSON.parse(text);
    } catch {
      return problemResponse(c, new AppError("malformed_request", "Malformed JSON in request body"));
    }
    const violation = checkJsonBounds(value);
    if (violation?.kind === "invalid_text") {
      const field = violation.path.length ? violation.path.join(".") : "json";
      return problemResponse(c, new AppError("validation_failed", "The request has invalid fields.", { errors: [{ field, message: violation.message }] }));
    }
    if (violation) return problemResponse(c, new AppError("malformed_request", violation.message));
    cacheBody(c, "text", text);
    return next();
  };
}
