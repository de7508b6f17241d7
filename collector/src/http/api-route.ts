import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { ApiDocs, OperationSpec, ResponseSpec } from './api-docs.js';
import type { AppEnv } from './app-env.js';
import { formatPath, sendError, toIssues } from './errors.js';
import {
  bodyErrorMessage,
  isContentTypeOf,
  readBodyText,
  unsupportedEncodingMessage,
} from './read-body.js';

/** Maximum body of an admin request, in bytes. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

/** The validated parts of a request, typed by the route's schemas. */
export interface RouteInput<S extends OperationSpec> {
  params: Infer<S['params']>;
  query: Infer<S['query']>;
  body: Infer<S['body']>;
}

/**
 * Registers a route that validates its path parameters, query and JSON body
 * with the spec's zod schemas before `handler` runs, and adds the spec to the
 * API docs. Invalid path parameters get 404 `not_found`, an invalid query
 * 400 `invalid_query`, a non-empty body without a JSON Content-Type or with a
 * Content-Encoding 415 `unsupported_media_type`, and a body that is not JSON
 * or does not validate 400 `invalid_json` or `invalid_request`. The replies to
 * a value that fails its schema name the parameter or field and carry the issue
 * paths. An empty body counts as `{}` whatever its Content-Type.
 */
export function defineRoute<const S extends OperationSpec>(
  app: Hono<AppEnv>,
  docs: ApiDocs,
  spec: S,
  handler: (c: Context<AppEnv>, input: RouteInput<S>) => Promise<Response> | Response,
): void {
  docs.add({ ...spec, responses: { ...inputErrorResponses(spec), ...spec.responses } });
  app.on(spec.method.toUpperCase(), spec.path, async (c) => {
    const params = spec.params?.safeParse(c.req.param());
    if (params && !params.success) {
      const issues = toIssues(params.error);
      const first = issues[0]!;
      // Quoted as JSON and cut, so a control character or a huge id is not echoed raw.
      const value = JSON.stringify(String(c.req.param(String(first.path[0])) ?? '').slice(0, 64));
      const message =
        `Path parameter ${formatPath(first.path)} ${value} matches nothing: ${first.message}`;
      return sendError(c, 404, 'not_found', message, { issues });
    }

    const misuse = spec.query ? checkQueryNames(c, spec.query) : undefined;
    if (misuse) return misuse;
    const query = spec.query?.safeParse(c.req.query());
    if (query && !query.success) {
      const issues = toIssues(query.error);
      const first = issues[0]!;
      const message = `Query parameter ${formatPath(first.path)}: ${first.message}`;
      return sendError(c, 400, 'invalid_query', message, { issues });
    }

    let body: unknown;
    if (spec.body) {
      const parsed = await readJsonBody(c, spec.body);
      if (parsed instanceof Response) return parsed;
      body = parsed.value;
    }

    return handler(c, { params: params?.data, query: query?.data, body } as RouteInput<S>);
  });
}

/**
 * Returns a 400 `invalid_query` reply for a query parameter the schema does
 * not declare, which is most often a misspelled filter that would otherwise
 * widen the result silently, or for one given more than once.
 */
function checkQueryNames(c: Context<AppEnv>, schema: z.ZodObject): Response | undefined {
  const allowed = Object.keys(schema.shape);
  for (const [name, values] of Object.entries(c.req.queries())) {
    // Quoted as JSON and cut, so a control character or a huge name is not echoed raw.
    const quoted = JSON.stringify(name.slice(0, 64));
    if (!allowed.includes(name)) {
      const message = `Query parameter ${quoted} is not supported; use ${allowed.join(', ')}`;
      return sendError(c, 400, 'invalid_query', message, {
        issues: [{ path: [name.slice(0, 64)], message: 'is not supported' }],
      });
    }
    if (values.length > 1) {
      const message = `Query parameter ${quoted} is given ${values.length} times; give it once`;
      return sendError(c, 400, 'invalid_query', message, {
        issues: [{ path: [name], message: 'is given more than once' }],
      });
    }
  }
  return undefined;
}

/** Returns the error responses that `defineRoute` sends for the inputs `spec` declares. */
function inputErrorResponses(spec: OperationSpec): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = {};
  if (spec.params) {
    const invalidPath = 'A path parameter is invalid, so nothing can match it';
    responses[404] = { description: invalidPath, schema: errorBodySchema };
  }
  if (spec.query || spec.body) {
    responses[400] = { description: 'Invalid query or body', schema: errorBodySchema };
  }
  if (spec.body) {
    const tooLarge = `Body over ${MAX_ADMIN_BODY_BYTES} bytes`;
    responses[413] = { description: tooLarge, schema: errorBodySchema };
    const unsupported = 'Body not sent as application/json, or with a Content-Encoding';
    responses[415] = { description: unsupported, schema: errorBodySchema };
  }
  return responses;
}

/** Reads and validates a JSON body; returns its value or the error response. */
async function readJsonBody(
  c: Context<AppEnv>,
  schema: z.ZodType,
): Promise<{ value: unknown } | Response> {
  const encodingMessage = unsupportedEncodingMessage(c.req.raw);
  if (encodingMessage) return sendError(c, 415, 'unsupported_media_type', encodingMessage);

  const body = await readBodyText(c, MAX_ADMIN_BODY_BYTES);
  const contentType = c.req.header('content-type');
  if (body.isOk && body.text.trim() !== '' && !isContentTypeOf(contentType, ['application/json'])) {
    const received = contentType?.slice(0, 128) ?? 'none';
    const message =
      `Content-Type must be application/json for a request body, received ${received}`;
    return sendError(c, 415, 'unsupported_media_type', message);
  }
  if (!body.isOk && body.reason === 'too_large') {
    const message = `Request body must be at most ${MAX_ADMIN_BODY_BYTES} bytes`;
    return sendError(c, 413, 'payload_too_large', message);
  }
  if (!body.isOk) return sendError(c, 400, 'invalid_json', bodyErrorMessage(body.reason));

  let json: unknown = {};
  if (body.text.trim() !== '') {
    try {
      json = JSON.parse(body.text);
    } catch (error) {
      const message = `Request body is not valid JSON: ${(error as Error).message}`;
      return sendError(c, 400, 'invalid_json', message);
    }
  }

  const result = schema.safeParse(json);
  if (result.success) return { value: result.data };
  const issues = toIssues(result.error);
  const first = issues[0]!;
  const message = `Invalid body at ${formatPath(first.path)}: ${first.message}`;
  return sendError(c, 400, 'invalid_request', message, { issues });
}
