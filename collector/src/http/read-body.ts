/** Result of `readBodyText`. */
export type BodyResult = { isOk: true; text: string } | { isOk: false; reason: 'too_large' | 'not_utf8' };

/**
 * Reads a request body as UTF-8 text, and stops reading as soon as it passes
 * `maxBytes`. Reading counts bytes, because a chunked request has no
 * Content-Length and a declared length may be absent or wrong.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<BodyResult> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) return { isOk: false, reason: 'too_large' };
  if (!request.body) return { isOk: true, text: '' };

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return { isOk: false, reason: 'too_large' };
    }
    chunks.push(value);
  }

  try {
    return { isOk: true, text: new TextDecoder('utf-8', { fatal: true }).decode(concat(chunks, size)) };
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
