import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { ErrorBody, ErrorCode, SessionState } from '../../../shared/src/index.js';

/** One validation problem of an error body: the path of the invalid field and why. */
export type Issue = NonNullable<ErrorBody['issues']>[number];

/** Sends a JSON error body `{ code, message, issues?, session? }` with the given status. */
export function sendError(
  c: Context,
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  extra: { issues?: Issue[]; session?: SessionState } = {},
): Response {
  const body: ErrorBody = { code, message, ...extra };
  return c.json(body, status);
}

/** Converts zod issues to error-body issues; symbol path keys become strings. */
export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'number' ? key : String(key))),
    message: issue.message,
  }));
}

/** Formats an issue path like `events[2].data.count`, or `(root)` for an empty path. */
export function formatPath(path: Issue['path']): string {
  if (path.length === 0) return '(root)';

  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? key : `.${key}`;
  }
  return text;
}
