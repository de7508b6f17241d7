import { describe, expect, it } from 'vitest';
import { ConnectionGate } from './shared-connection.js';

/** Creates a task that runs until `finish` is called and records when it starts and ends. */
function blockingTask(log: string[], name: string): { run: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    run: async () => {
      log.push(`${name} started`);
      await done;
      log.push(`${name} finished`);
      return name;
    },
    finish,
  };
}

describe('ConnectionGate', () => {
  it('pause waits, then delays new tasks', async () => {
    const gate = new ConnectionGate();
    const log: string[] = [];
    const running = blockingTask(log, 'running');
    const blocked = blockingTask(log, 'blocked');

    const first = gate.run(running.run);
    const paused = gate.pause().then((resume) => {
      log.push('paused');
      return resume;
    });
    await Promise.resolve();
    const second = gate.run(blocked.run);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['running started']);

    running.finish();
    const resume = await paused;
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['running started', 'running finished', 'paused']);

    resume();
    blocked.finish();
    expect(await Promise.all([first, second])).toEqual(['running', 'blocked']);
    expect(log.slice(3)).toEqual(['blocked started', 'blocked finished']);
  });

  it('pause with no running task resolves at once', async () => {
    const gate = new ConnectionGate();
    const resume = await gate.pause();
    resume();
    expect(await gate.run(async () => 'ran')).toBe('ran');
  });

  it('a failed task still lets a pause through', async () => {
    const gate = new ConnectionGate();
    await expect(gate.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow(
      'query failed',
    );
    const resume = await gate.pause();
    resume();
  });

  it('second pause before resume rejected', async () => {
    const gate = new ConnectionGate();
    const resume = await gate.pause();
    await expect(gate.pause()).rejects.toThrow('connection gate is already paused');
    resume();
    (await gate.pause())();
  });
});
