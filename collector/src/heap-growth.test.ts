import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from './heap-growth.js';

describe('limitHeapGrowth', () => {
  it('sets the flag without a command-line value', () => {
    expect(limitHeapGrowth(['--import', 'tsx'])).toBe(true);
  });

  it('keeps a command-line value with equals sign', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=80'])).toBe(false);
  });

  it('keeps a command-line value as next argument', () => {
    expect(limitHeapGrowth(['--heap-growing-percent', '80'])).toBe(false);
  });

  it('ignores flags that share the prefix', () => {
    expect(limitHeapGrowth(['--heap-growing-percentage-typo=80'])).toBe(true);
  });
});
