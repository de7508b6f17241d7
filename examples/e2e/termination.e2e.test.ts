import { describe, expect, it } from 'vitest';
import { benchTermination } from '../../scripts/bench/termination.js';

describe('admin termination', () => {
  it('reaches all three tabs of the session', async () => {
    const [result] = await benchTermination(1);

    expect(result?.tabMs).toHaveLength(3);
    for (const ms of result!.tabMs) expect(ms).toBeGreaterThanOrEqual(0);
  });
});
