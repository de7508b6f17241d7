import { Readable } from 'node:stream';
import type { Context } from 'hono';

/** Strict UTF-8 decoder. It keeps no state between calls, so one instance serves every request. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Reason `readBodyText` could not return the body. */
export type BodyFailure = 'too_large' | 'not_utf8' | 'aborted';

/** Result of `readBodyText`. */
export type BodyResult = { isOk: true; text: string } | { isOk: false; reason: BodyFailure };

/**
 * Reads a request body as UTF-8 text, and stops reading as soon as it passes
 * `maxBytes`. Reading counts bytes, because a chunked request has no
 * Content-Length and a declared length may be absent or wrong.
 *
 * Under the Node server it reads Node's request stream, which costs far less
 * than the web `Request` body (a web stream over the same bytes, built on
 * first access). An in-process `app.request` has only the web body.
 */
export function readBodyText(c: Context, maxBytes: number): Promise<BodyResult> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.resolve({ isOk: false, reason: 'too_large' });
  }
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof Readable
    ? readIncoming(incoming, maxBytes)
    : readWebBody(c.req.raw, maxBytes);
}

function readIncoming(incoming: Readable, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAborted);
      incoming.off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        // Pausing leaves the rest of an oversized body unread.
        incoming.pause();
        finish({ isOk: false, reason: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    // The client closed the connection before sending the whole body.
    const onAborted = () => finish({ isOk: false, reason: 'aborted' });

    if (incoming.readableEnded) {
      onAborted();
      return;
    }
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAborted);
    incoming.on('close', onAborted);
  });
}

async function readWebBody(request: Request, maxBytes: number): Promise<BodyResult> {
  if (!request.body) return { isOk: true, text: '' };

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client closed the connection before sending the whole body.
      return { isOk: false, reason: 'aborted' };
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return { isOk: false, reason: 'too_large' };
    }
    chunks.push(value);
  }

  return decodeUtf8(concat(chunks, size));
}

function decodeUtf8(bytes: Uint8Array): BodyResult {
  try {
    return { isOk: true, text: utf8Decoder.decode(bytes) };
  } catch {
    return { isOk: false, reason: 'not_utf8' };
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Returns the error message for a body `readBodyText` could not return. */
export function bodyErrorMessage(reason: BodyFailure): string {
  if (reason === 'aborted') return 'Request body ended early; the connection closed while it was sent';
  if (reason === 'not_utf8') return 'Request body is not valid UTF-8';
  return 'Request body is too large';
}

/**
 * Returns why a request's Content-Encoding cannot be read, or undefined for
 * none or `identity`. The collector does not decompress bodies, so a
 * compressed one would otherwise fail later as invalid UTF-8 or JSON.
 */
export function unsupportedEncodingMessage(request: Request): string | undefined {
  const encoding = request.headers.get('content-encoding')?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return undefined;

  const received = encoding.slice(0, 64);
  return `Content-Encoding must be identity (an uncompressed body), received ${received}`;
}

/** Returns whether a Content-Type header is one of `types`, with no charset or charset UTF-8. */
export function isContentTypeOf(header: string | undefined, types: readonly string[]): boolean {
  const [type = '', ...parameters] = (header ?? '')
    .split(';')
    .map((part) => part.trim().toLowerCase());
  if (!types.includes(type)) return false;
  return parameters.every(
    (parameter) =>
      parameter === '' || parameter === 'charset=utf-8' || parameter === 'charset="utf-8"',
  );
}
