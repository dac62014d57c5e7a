/**
 * zod, with OpenAPI metadata (`.openapi()`) installed before any schema is built. zod copies its
 * methods onto each schema as it builds it, so a schema built before the extension could not be
 * documented by the routes; that depended on which module happened to load first. Modules that
 * build schemas import z from here (the routes from @hono/zod-openapi, which installs the same).
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

extendZodWithOpenApi(z);

export { z };
