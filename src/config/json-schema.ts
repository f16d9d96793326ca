import { z } from 'zod';
import { configSchema } from './config-schema.js';

/**
 * The JSON Schema (draft 2020-12) of what a config file may contain: the input side of the zod
 * schema, so durations, rates and windows appear as the strings users write. Cross-field rules
 * (exactly one of template/content, references between sections) are checked by `waymark
 * validate`, not by the JSON Schema.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
}
