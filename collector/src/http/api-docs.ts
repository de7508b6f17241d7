import { z } from 'zod';
import type { Role } from '../auth/api-tokens.js';
import { errorBodySchema } from '../../../shared/src/index.js';

/** HTTP methods the API uses. */
export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** One documented response of an operation. */
export interface ResponseSpec {
  description: string;
  /** Schema of the JSON body; leave it out for bodies that are not JSON. */
  schema?: z.ZodType;
  /** Media type of a body that is not JSON, such as `text/event-stream`. */
  mediaType?: string;
}

/** The documentation of one operation, built from the schemas that validate it. */
export interface OperationSpec {
  method: HttpMethod;
  /** Hono path, such as `/v1/admin/sessions/:id`. */
  path: string;
  /** Group of the operation in the docs, such as `Sessions`. */
  tag: string;
  summary: string;
  description?: string;
  /** Role the route requires; public routes leave it out. */
  role?: Role;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
}

type JsonSchema = Record<string, unknown>;

/** Error responses every authorized route can return. */
const AUTH_RESPONSES: Record<number, ResponseSpec> = {
  401: { description: 'Missing or invalid token', schema: errorBodySchema },
  403: { description: 'The token has a role the route does not allow', schema: errorBodySchema },
};

/** Error responses of every route: the per-address rate limit, and storage whose loads fail. */
const COMMON_RESPONSES: Record<number, ResponseSpec> = {
  429: {
    description: 'Too many requests from this address (`rate_limited`); retry after `Retry-After`',
    schema: errorBodySchema,
  },
  503: {
    description:
      'Loading acknowledged batches into DuckDB keeps failing (`storage_unavailable`); ' +
      'retry after `Retry-After`',
    schema: errorBodySchema,
  },
};

/** Converts a Hono path such as `/v1/sessions/:id/stream` into the OpenAPI form `{id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Converts a request schema: the input side, as clients send it. */
function requestSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Converts a response schema: the output side, as the collector sends it. */
function responseSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * Collects the operations of the API and renders them as an OpenAPI 3.1
 * document. Routes add themselves when they are registered, so the document
 * lists exactly the schemas that validate requests.
 */
export class ApiDocs {
  readonly #operations: OperationSpec[] = [];

  /** Adds one operation. */
  add(operation: OperationSpec): void {
    this.#operations.push(operation);
  }

  /** Lists the operations in the order they were added. */
  get operations(): readonly OperationSpec[] {
    return this.#operations;
  }

  /** Builds the OpenAPI 3.1 document. */
  toOpenApi(info: { title: string; version: string; description: string }): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const operation of this.#operations) {
      const path = toOpenApiPath(operation.path);
      paths[path] ??= {};
      paths[path][operation.method] = this.#toOperation(operation);
    }
    return {
      openapi: '3.1.0',
      info,
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An admin or analyst token: ADMIN_TOKEN, ANALYST_TOKEN or one of API_TOKENS.',
          },
        },
      },
      paths,
    };
  }

  #toOperation(operation: OperationSpec): JsonSchema {
    const responses = {
      ...COMMON_RESPONSES,
      ...operation.responses,
      ...(operation.role ? AUTH_RESPONSES : {}),
    };
    const result: JsonSchema = {
      tags: [operation.tag],
      summary: operation.summary,
      operationId: `${operation.method}${toOpenApiPath(operation.path).replace(/[^A-Za-z0-9]+/g, '_')}`,
      parameters: [
        ...parameters(operation.params, 'path'),
        ...parameters(operation.query, 'query'),
      ],
      responses: Object.fromEntries(
        Object.entries(responses).map(([status, response]) => [status, toResponse(response)]),
      ),
    };
    if (operation.description) result.description = operation.description;
    if (operation.role) {
      result.security = [{ bearer: [] }];
      result['x-required-role'] = operation.role;
    }
    if (operation.body) {
      result.requestBody = {
        required: true,
        content: { 'application/json': { schema: requestSchema(operation.body) } },
      };
    }
    return result;
  }
}

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = requestSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    const parameter: JsonSchema = {
      name,
      in: location,
      required: location === 'path' || (json.required ?? []).includes(name),
      schema: propertySchema,
    };
    if (typeof description === 'string') parameter.description = description;
    return parameter;
  });
}

function toResponse(response: ResponseSpec): JsonSchema {
  if (response.mediaType) {
    return { description: response.description, content: { [response.mediaType]: {} } };
  }
  if (!response.schema) return { description: response.description };
  return {
    description: response.description,
    content: { 'application/json': { schema: responseSchema(response.schema) } },
  };
}
