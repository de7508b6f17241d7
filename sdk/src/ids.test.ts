import { describe, expect, it } from 'vitest';
import { idSchema } from '../../shared/src/index.js';
import { createId } from './ids.js';

describe('createId', () => {
  it('creates collector-valid ids', () => {
    for (let index = 0; index < 50; index += 1) {
      const id = createId();

      expect(id).toMatch(/^[0-9a-v]{26}$/);
      expect(idSchema.safeParse(id).success).toBe(true);
    }
  });

  it('returns distinct ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, createId));

    expect(ids.size).toBe(1000);
  });
});
