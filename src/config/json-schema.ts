import { z } from 'zod';
import { configSchema } from './config-schema.js';

/** Where editors can find the schema (`# yaml-language-server: $schema=...`). */
export const CONFIG_SCHEMA_ID = 'https://waymark.dev/schema/waymark.schema.json';

/**
 * The JSON Schema (draft 2020-12) of what a config file may contain: the input side of the zod
 * schema, so durations, rates and windows appear as the strings users write. Cross-field rules
 * (exactly one of template/content, references between sections) are checked by `waymark
 * validate`, not by the JSON Schema.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return { ...schema, $id: CONFIG_SCHEMA_ID };
}
