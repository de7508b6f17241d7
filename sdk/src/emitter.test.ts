import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';

interface Events {
  ping: number;
}

describe('emitter', () => {
  it('holds events until release', () => {
    const emitter = createEmitter<Events>(() => {});
    const received: number[] = [];

    emitter.emit('ping', 1);
    emitter.on('ping', (value) => received.push(value));
    expect(received).toEqual([]);

    emitter.release();
    emitter.emit('ping', 2);

    expect(received).toEqual([1, 2]);
  });

  it('unsubscribes with returned function', () => {
    const emitter = createEmitter<Events>(() => {});
    const received: number[] = [];
    emitter.release();

    const off = emitter.on('ping', (value) => received.push(value));
    emitter.emit('ping', 1);
    off();
    emitter.emit('ping', 2);

    expect(received).toEqual([1]);
  });

  it('isolates throwing listener', () => {
    const errors: unknown[] = [];
    const emitter = createEmitter<Events>((error) => errors.push(error));
    const received: number[] = [];
    emitter.release();

    emitter.on('ping', () => {
      throw new Error('listener broke');
    });
    emitter.on('ping', (value) => received.push(value));
    emitter.emit('ping', 7);

    expect(received).toEqual([7]);
    expect(errors).toEqual([new Error('listener broke')]);
  });
});
