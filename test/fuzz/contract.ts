/**
 * The app's own OpenAPI document as an oracle: the operations to call, and for every answer
 * whether its status is declared for the operation, its content type is one the operation
 * declares, and its body matches the declared schema (ajv, JSON Schema 2020-12, the dialect of
 * OpenAPI 3.1). Errors must be problem+json with a code, and bounded in size.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Schema } from "./values.ts";

// ajv-formats is CommonJS: its plugin is the default export's default under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  /** "METHOD path", as the access table keys it. */
  key: string;
  method: string;
  template: string;
  parameters: Parameter[];
  body?: Schema;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export interface Document {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Operation["responses"] }>>;
  components: { schemas: Record<string, Schema> };
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** A problem body's bound, whatever was sent: 20 field errors of bounded length and a detail. */
export const PROBLEM_BODY_MAX_BYTES = 16 * 1024;

const COMPONENTS_ID = "https://dangol.example/openapi/components";

/** The document's refs point into components; ajv holds them as one schema of its own. */
function rewriteRefs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`)) as T;
}

export interface Contract {
  operations: Operation[];
  resolve(schema: Schema): Schema;
  /** What is wrong with an answer to the operation; empty when nothing is. */
  violations(operation: Operation, answer: Answer): string[];
}

export function contractOf(document: Document): Contract {
  const ajv = new Ajv2020({ strict: true, allErrors: false });
  // OpenAPI's annotation keyword; "binary" is what an image or CSV body is.
  ajv.addKeyword("example");
  addFormats(ajv);
  ajv.addFormat("binary", true);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(document.components.schemas) });
  const validators = new Map<Schema, ValidateFunction>();
  const validatorOf = (schema: Schema) => {
    let validate = validators.get(schema);
    if (!validate) validators.set(schema, (validate = ajv.compile(rewriteRefs(schema))));
    return validate;
  };
  const problem = validatorOf({ $ref: "#/components/schemas/Problem" });

  const operations = Object.entries(document.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]): Operation => ({
      key: `${method.toUpperCase()} ${template}`,
      method: method.toUpperCase(),
      template,
      parameters: op.parameters ?? [],
      ...(op.requestBody ? { body: op.requestBody.content["application/json"]?.schema ?? {} } : {}),
      responses: op.responses,
    })),
  );

  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref;
    if (!ref) return schema;
    const found = document.components.schemas[ref.replace("#/components/schemas/", "")];
    if (!found) throw new Error(`unresolved ${ref}`);
    return resolve(found);
  };

  return {
    operations,
    resolve,
    violations(operation, answer) {
      const found: string[] = [];
      if (answer.status >= 500) found.push(`server error ${answer.status}`);
      const declared = operation.responses[String(answer.status)] ?? operation.responses.default;
      if (!declared) return [...found, `status ${answer.status} is not declared`];
      const mediaType = answer.contentType.split(";")[0]!.trim();
      if (answer.status >= 400) {
        if (mediaType !== "application/problem+json") return [...found, `error as ${mediaType || "no content type"}, not problem+json`];
        if (new TextEncoder().encode(answer.text).length > PROBLEM_BODY_MAX_BYTES) found.push(`problem body of ${answer.text.length} characters`);
        const body = parsed(answer.text);
        if (!problem(body)) found.push(`problem body off its schema: ${ajv.errorsText(problem.errors)}`);
        else if ((body as { status: number }).status !== answer.status) found.push(`problem status ${(body as { status: number }).status} in a ${answer.status} answer`);
        return found;
      }
      const content = declared.content;
      if (!content) {
        if (answer.text !== "") found.push(`a body where none is declared`);
        return found;
      }
      const media = content[mediaType];
      if (!media) return [...found, `content type ${mediaType || "none"} is not declared (${Object.keys(content).join(", ")})`];
      if (mediaType.endsWith("json")) {
        const validate = validatorOf(media.schema);
        if (!validate(parsed(answer.text))) found.push(`body off its schema: ${ajv.errorsText(validate.errors)}`);
      }
      return found;
    },
  };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return Symbol("not JSON");
  }
}
