import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { ApiDocs, OperationSpec, ResponseSpec } from './api-docs.js';
import { toOpenApiPath } from './api-docs.js';
import type { AppEnv } from './app-env.js';

type JsonSchema = Record<string, unknown>;

/** Title and version of the OpenAPI document. */
const INFO = {
  title: 'Process Sessions collector',
  version: '0.1.0',
  description:
    'Ingest, session streams, the admin API (role admin) and analytics (roles admin and analyst). ' +
    'Errors are JSON bodies with a stable `code`, a `message` and, for validation, `issues`.',
};

/** Only inline styles; the page loads nothing from another origin. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 1rem 2rem; color: #1d1d1f; }
  h2 { border-bottom: 1px solid #ddd; margin-top: 2.5rem; }
  section.op { border: 1px solid #e3e3e3; border-radius: 6px; margin: 1rem 0; padding: 0.5rem 1rem; }
  .method { display: inline-block; min-width: 4rem; font-weight: 600; text-transform: uppercase; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f6f6f6; overflow-x: auto; padding: 0.5rem; }
  table { border-collapse: collapse; }
  td, th { border-bottom: 1px solid #eee; padding: 0.2rem 0.8rem 0.2rem 0; text-align: left; vertical-align: top; }
  .role { color: #8a4b00; font-size: 13px; }
`;

/**
 * Registers `GET /openapi.json`, the OpenAPI 3.1 document, and `GET /docs`,
 * an HTML page rendered from it on this server. Both are public: they
 * describe the API, never its data.
 */
export function registerDocsRoutes(app: Hono<AppEnv>, docs: ApiDocs): void {
  app.get('/openapi.json', (c) => c.json(docs.toOpenApi(INFO)));

  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', CSP);
    return c.html(renderPage(docs));
  });
}

function renderPage(docs: ApiDocs) {
  const document = docs.toOpenApi(INFO) as { paths: Record<string, Record<string, JsonSchema>> };
  const tags = [...new Set(docs.operations.map((operation) => operation.tag))];

  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${INFO.title} API</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${INFO.title} API</h1>
<p>${withCode(INFO.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authorized routes take
<code>Authorization: Bearer &lt;token&gt;</code>, and answer 401 without a valid token and 403 when its role is not allowed.</p>
<nav><ul>${tags.map((tag) => html`<li><a href="#${slug(tag)}">${tag}</a></li>`)}</ul></nav>
${tags.map(
  (tag) => html`<h2 id="${slug(tag)}">${tag}</h2>
${docs.operations
  .filter((operation) => operation.tag === tag)
  .map((operation) => renderOperation(operation, document.paths))}`,
)}
</body>
</html>`;
}

function renderOperation(operation: OperationSpec, paths: Record<string, Record<string, JsonSchema>>) {
  const openApi = paths[toOpenApiPath(operation.path)]?.[operation.method] ?? {};
  const parameters = (openApi.parameters ?? []) as JsonSchema[];
  const body = (openApi.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)
    ?.content?.['application/json']?.schema;
  const responses = (openApi.responses ?? {}) as Record<string, JsonSchema>;

  return html`<section class="op">
<h3><span class="method">${operation.method}</span> <code>${operation.path}</code></h3>
<p>${withCode(operation.summary)}${operation.role ? html` <span class="role">(role ${operation.role})</span>` : ''}</p>
${operation.description ? html`<p>${withCode(operation.description)}</p>` : ''}
${parameters.length > 0 ? renderParameters(parameters) : ''}
${body ? html`<details><summary>Request body (JSON)</summary><pre>${pretty(body)}</pre></details>` : ''}
<table><tr><th>Status</th><th>Response</th></tr>
${Object.entries(responses).map(([status, response]) => renderResponse(status, response))}
</table>
</section>`;
}

function renderParameters(parameters: JsonSchema[]) {
  return html`<table><tr><th>Parameter</th><th>In</th><th>Schema</th><th>Description</th></tr>
${parameters.map(
  (parameter) => html`<tr><td><code>${String(parameter.name)}</code>${parameter.required ? ' (required)' : ''}</td>
<td>${String(parameter.in)}</td><td><code>${JSON.stringify(parameter.schema)}</code></td>
<td>${typeof parameter.description === 'string' ? withCode(parameter.description) : ''}</td></tr>`,
)}</table>`;
}

function renderResponse(status: string, response: JsonSchema) {
  const content = response.content as Record<string, { schema?: unknown }> | undefined;
  const schema = content?.['application/json']?.schema;
  const description = String((response as Partial<ResponseSpec>).description ?? '');
  return html`<tr><td>${status}</td><td>${withCode(description)}${
    schema ? html`<details><summary>Schema</summary><pre>${pretty(schema)}</pre></details>` : ''
  }</td></tr>`;
}

/**
 * Renders the Markdown code spans of an OpenAPI description, text between
 * backticks, as `<code>`; the rest stays escaped text.
 */
function withCode(text: string) {
  return text
    .split('`')
    .map((part, index) => (index % 2 === 1 ? html`<code>${part}</code>` : part));
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
