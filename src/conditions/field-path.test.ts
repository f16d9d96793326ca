import { describe, expect, it } from 'vitest';
import { InvalidFieldPathError, resolveFieldPath } from './index.js';

describe('resolveFieldPath', () => {
  it('reads bare paths from the customer', () => {
    expect(resolveFieldPath('health_score')).toEqual({
      field: 'health_score',
      root: 'customer',
      segments: ['health_score'],
    });
    expect(resolveFieldPath('contract.end_date').segments).toEqual(['contract', 'end_date']);
  });

  it('recognises the three roots', () => {
    expect(resolveFieldPath('customer.arr')).toMatchObject({ root: 'customer', segments: ['arr'] });
    expect(resolveFieldPath('journey.current_stage')).toMatchObject({
      root: 'journey',
      segments: ['current_stage'],
    });
    expect(resolveFieldPath('journey')).toMatchObject({ root: 'journey', segments: [] });
  });

  it('gives event paths a fallback into properties, except type and properties', () => {
    expect(resolveFieldPath('event.plan.tier')).toEqual({
      field: 'event.plan.tier',
      root: 'event',
      segments: ['plan', 'tier'],
      fallback: ['properties', 'plan', 'tier'],
    });
    expect(resolveFieldPath('event.type').fallback).toBeUndefined();
    expect(resolveFieldPath('event.properties.x').fallback).toBeUndefined();
    expect(resolveFieldPath('event').fallback).toBeUndefined();
  });

  it('honours defaultRoot for bare paths only', () => {
    expect(resolveFieldPath('device', { defaultRoot: 'event' })).toMatchObject({
      root: 'event',
      segments: ['device'],
      fallback: ['properties', 'device'],
    });
    expect(resolveFieldPath('customer.x', { defaultRoot: 'event' }).root).toBe('customer');
  });

  it('a customer field named like a root needs the customer prefix', () => {
    expect(resolveFieldPath('customer.event')).toMatchObject({
      root: 'customer',
      segments: ['event'],
    });
  });

  it('throws a coded error for empty and reserved segments', () => {
    for (const field of ['', 'a..b', 'a.', '__proto__', 'a.constructor', 'event.prototype']) {
      expect(() => resolveFieldPath(field)).toThrow(InvalidFieldPathError);
    }
    expect(() => resolveFieldPath('customer..x')).toThrow(
      expect.objectContaining({ code: 'FIELD_PATH_INVALID' }),
    );
  });
});
