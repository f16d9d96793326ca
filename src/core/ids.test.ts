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

  it('ids minted in the same millisecond keep increasing (they append to id indexes)', () => {
    const ids = randomIds(() => 1_700_000_000_000);
    const minted = Array.from({ length: 50_000 }, () => ids.next('tmr'));
    expect(new Set(minted).size).toBe(minted.length);
    expect(minted.every((id, i) => i === 0 || (minted[i - 1] ?? '') < id)).toBe(true);
    expect(minted.every((id) => /^tmr_[0-9A-Z]{26}$/.test(id))).toBe(true);
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
