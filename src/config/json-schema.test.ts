import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECTION_NAMES } from './config-schema.js';
import { configJsonSchema } from './json-schema.js';

const COMMITTED = join(import.meta.dirname, '../../schema/waymark.schema.json');

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as {
    title: string;
    properties: Record<string, unknown>;
    additionalProperties: boolean;
    $defs: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  };

  it('describes every top-level key, and nothing else', () => {
    expect(schema.title).toBe('Waymark configuration');
    expect(Object.keys(schema.properties)).toEqual(SECTION_NAMES);
    expect(schema.additionalProperties).toBe(false);
  });

  it('is the input side: durations and rates are strings, defaulted fields are optional', () => {
    const rule = schema.$defs['Rule']!;
    expect(rule.required).toEqual(['id', 'name', 'conditions', 'actions']);
    expect(rule.properties?.['priority']).toMatchObject({ type: 'integer', default: 100 });
    const channels = schema.properties['channels'] as {
      additionalProperties: { properties: Record<string, unknown> };
    };
    expect(channels.additionalProperties.properties['rate_limit']).toMatchObject({
      type: 'string',
    });
    expect(schema.$defs['ConditionGroup']).toBeDefined();
  });

  it('matches schema/waymark.schema.json (regenerate: waymark schema --out schema/waymark.schema.json)', () => {
    const committed: unknown = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });
});
