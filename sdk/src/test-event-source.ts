import { get, type ClientRequest } from 'node:http';

/** How long the test EventSource waits before it reconnects after a dropped connection, in ms. */
const RECONNECT_MS = 3000;

/**
 * An EventSource for tests, because happy-dom and Node 20 have none. It follows the
 * WHATWG rules the SDK depends on: a reply other than 200 with `text/event-stream` fails
 * the connection for good (readyState CLOSED, then `error`), while a dropped connection
 * fires `error` in readyState CONNECTING and reconnects by itself. It parses `event:` and
 * `data:` lines into MessageEvents; `id:` and `retry:` fields are ignored.
 */
export class TestEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  /** Every instance created, so a test can count and inspect them. */
  static readonly instances: TestEventSource[] = [];

  readonly url: string;
  readyState = TestEventSource.CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  private request: ClientRequest | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    TestEventSource.instances.push(this);
    this.connect();
  }

  close(): void {
    this.readyState = TestEventSource.CLOSED;
    clearTimeout(this.timer);
    this.request?.destroy();
  }

  private connect() {
    this.request = get(this.url, { headers: { accept: 'text/event-stream' } }, (response) => {
      const isStream = String(response.headers['content-type']).startsWith('text/event-stream');

      if (response.statusCode !== 200 || !isStream) {
        response.resume();
        this.fail(TestEventSource.CLOSED);
        return;
      }
      this.readyState = TestEventSource.OPEN;
      this.fire(new Event('open'));

      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!;
        blocks.forEach((block) => this.dispatchBlock(block));
      });
      response.on('end', () => this.fail(TestEventSource.CONNECTING));
      response.on('error', () => this.fail(TestEventSource.CONNECTING));
    });
    this.request.on('error', () => this.fail(TestEventSource.CONNECTING));
  }

  private dispatchBlock(block: string) {
    let type = 'message';
    const data: string[] = [];

    for (const line of block.split('\n')) {
      const [field, ...rest] = line.split(':');
      const value = rest.join(':').replace(/^ /, '');

      if (field === 'event') type = value;
      if (field === 'data') data.push(value);
    }
    if (data.length && this.readyState === TestEventSource.OPEN) {
      this.fire(new MessageEvent(type, { data: data.join('\n') }));
    }
  }

  /** Fails the connection: for good with CLOSED, or with CONNECTING to reconnect later. */
  private fail(state: number) {
    if (this.readyState === TestEventSource.CLOSED) return;
    this.readyState = state;
    this.fire(new Event('error'));
    if (this.readyState === TestEventSource.CONNECTING) this.timer = setTimeout(() => this.connect(), RECONNECT_MS);
  }

  private fire(event: Event) {
    this.dispatchEvent(event);
    const handler = { open: this.onopen, error: this.onerror, message: this.onmessage }[event.type];
    handler?.call(this, event as MessageEvent);
  }
}
