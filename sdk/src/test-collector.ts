import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchInput, SessionState } from '../../shared/src/index.js';

/** A reply the test collector sends to one batch: status and JSON body. */
export interface TestReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A request the test collector received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** Serves `GET /v1/sessions/:id/stream` of session `sessionId` in a test. */
export type StreamHandler = (sessionId: string, response: ServerResponse, request: IncomingMessage) => void;

/**
 * Starts a real HTTP server on 127.0.0.1 that records what the SDK sends to
 * `POST /v1/events`. By default it accepts every batch and replies with an active session,
 * as the collector does. With `reply`, a test chooses the reply to each batch. Session
 * streams get a 404 unless `stream` serves them.
 */
export async function startTestCollector(
  reply: (batch: BatchInput) => TestReply = (batch) => acceptBatch(batch),
  stream: StreamHandler = (_, response) => response.writeHead(404).end(),
) {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    void handle(request, response, requests, reply, stream);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    /** Requests for session streams, in arrival order. */
    streams: () => requests.filter((request) => request.method === 'GET' && request.url.endsWith('/stream')),
    /** Batches received on `POST /v1/events`, in arrival order. */
    batches: () =>
      requests
        .filter((request) => request.method === 'POST' && request.url === '/v1/events')
        .map((request) => JSON.parse(request.body) as BatchInput),
    /** Waits until no request arrived for 50 ms, so beacons of stopped trackers land, then closes. */
    async close() {
      let seen = -1;
      while (seen !== requests.length) {
        seen = requests.length;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Open event streams would keep the server from closing.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  requests: ReceivedRequest[],
  reply: (batch: BatchInput) => TestReply,
  stream: StreamHandler,
) {
  let body = '';
  for await (const chunk of request) body += chunk;

  // happy-dom preflights even text/plain POSTs, which browsers send without a preflight.
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'content-type',
  };
  if (request.method === 'OPTIONS') {
    response.writeHead(204, cors).end();
    return;
  }

  requests.push({ method: request.method!, url: request.url!, contentType: request.headers['content-type'], body });
  const streamOf = request.url!.match(/^\/v1\/sessions\/([^/]+)\/stream$/)?.[1];
  if (request.method === 'GET' && streamOf) {
    stream(decodeURIComponent(streamOf), response, request);
    return;
  }

  const { status, body: replyBody, headers } = reply(JSON.parse(body) as BatchInput);
  response.writeHead(status, { ...cors, 'content-type': 'application/json', ...headers }).end(JSON.stringify(replyBody));
}

/** Builds the session state the collector reports for `sessionId`. */
export function sessionState(sessionId: string, change: Partial<SessionState> = {}): SessionState {
  return {
    id: sessionId,
    state: 'active',
    startedAt: 1,
    endedAt: null,
    endReason: null,
    policy: {
      enabled: true,
      idleTimeoutMs: 1_800_000,
      warningMs: 60_000,
      absoluteTimeoutMs: 86_400_000,
      heartbeatMs: 30_000,
      maxTabs: null,
    },
    ...change,
  };
}

/** Accepts every event of `batch`, replying with an active session under `policy`. */
export function acceptBatch(batch: BatchInput, policy: Partial<SessionState['policy']> = {}): TestReply {
  const session = sessionState(batch.sessionId);
  session.policy = { ...session.policy, ...policy };
  const body = { accepted: batch.events.length, duplicates: 0, rejected: [], session };

  return { status: 200, body };
}

/** Waits in real time, which fake timers leave alone, until `predicate` holds. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;

  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
