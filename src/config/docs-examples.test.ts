import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigSources } from './loader.js';

/** Every YAML example in docs/config.md is a valid config (warnings allowed: they are fragments). */
const DOC = join(import.meta.dirname, '../../docs/config.md');
const examples = [...readFileSync(DOC, 'utf8').matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(
  (m, i) => [i + 1, m[1] ?? ''] as const,
);

describe('docs/config.md examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(10);
  });

  it.each(examples)('example %i validates', (index, text) => {
    const { problems } = validateConfigSources([{ file: `config.md#${index}`, text }]);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
