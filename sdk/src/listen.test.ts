import { describe, expect, it, vi } from 'vitest';
import { listen } from './listen.js';

describe('listen', () => {
  it('calls listener until removed', () => {
    const target = new EventTarget();
    const types: string[] = [];
    const remove = listen(target, 'ping', (event) => types.push(event.type));

    target.dispatchEvent(new Event('ping'));
    remove();
    target.dispatchEvent(new Event('ping'));

    expect(types).toEqual(['ping']);
  });

  it('removes with same options', () => {
    const target = new EventTarget();
    const add = vi.spyOn(target, 'addEventListener');
    const remove = vi.spyOn(target, 'removeEventListener');
    const options = { capture: true, passive: true };
    const listener = () => {};

    listen(target, 'keydown', listener, options)();

    // A capture listener stays attached unless the removal also passes `capture`.
    expect(add).toHaveBeenCalledWith('keydown', listener, options);
    expect(remove).toHaveBeenCalledWith('keydown', listener, options);
  });
});
