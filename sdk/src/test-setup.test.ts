import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

/** Returns a port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('test setup', () => {
  it('failed beacon raises no rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);

    const isQueued = navigator.sendBeacon(`http://127.0.0.1:${await closedPort()}/v1/events`, '{}');
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.off('unhandledRejection', onRejection);

    expect(isQueued).toBe(true);
    expect(rejections).toEqual([]);
  });
});
