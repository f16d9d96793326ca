import { describe, expect, it } from 'vitest';
import { randomIds, sequentialIds } from './ids.js';

describe('ids', () => {
  it('random ids are unique and sort by creation time', () => {
    let t = 1_700_000_000_000;
    const ids = randomIds(() => t);
    const a = ids.next('enr');
    t += 1;
    const b = ids.next('enr');
    expect(a).toMatch(/^enr_[0-9A-Z]{26}$/);
    expect(a < b).toBe(true);
    const many = new Set(Array.from({ length: 1000 }, () => ids.next('x')));
    expect(many.size).toBe(1000);
  });

  it('sequential ids count per prefix', () => {
    const ids = sequentialIds();
    expect([ids.next('a'), ids.next('a'), ids.next('b')]).toEqual([
      'a_000001',
      'a_000002',
      'b_000001',
    ]);
  });
});
