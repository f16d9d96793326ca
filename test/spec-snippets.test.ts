import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../src/cli/index.js';

/**
 * Every YAML snippet of the specification, saved to a file on its own, passes `waymark validate`
 * (a user who copies a snippet gets a working config). The specification lives beside the project
 * (`../shared/spec/...`); committed copies under test/fixtures/config/spec keep the test running
 * where it is absent, and are checked against it where it is present.
 */

const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const SPEC = resolve(PROJECT_ROOT, '../shared/spec/journey-orchestration-guide.md');
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/config/spec');

function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
}

const specSnippets = existsSync(SPEC) ? yamlBlocks(readFileSync(SPEC, 'utf8')) : [];
const fixtureFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

async function validate(path: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['validate', path], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  return { code, out, err };
}

let scratch = '';
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'waymark-spec-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe.runIf(existsSync(SPEC))('specification snippets (live)', () => {
  it('has the snippets the fixtures were copied from', () => {
    expect(specSnippets.length).toBeGreaterThanOrEqual(10);
    // Fixtures are prettier-formatted copies: compare their data, not their text.
    expect(
      fixtureFiles.map((f) => parse(readFileSync(join(FIXTURES, f), 'utf8')) as unknown),
    ).toEqual(specSnippets.map((s) => parse(s) as unknown));
  });

  it.each(specSnippets.map((text, index) => [index + 1, text] as const))(
    'snippet %i validates on its own',
    async (index, text) => {
      const file = join(scratch, `snippet-${index}.yaml`);
      await writeFile(file, text);
      const result = await validate(file);
      expect(result.err).not.toMatch(/: error: /);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^ok: 1 file, /);
    },
  );
});

describe('specification snippets (committed copies)', () => {
  it.each(fixtureFiles)('%s validates on its own', async (name) => {
    const result = await validate(join(FIXTURES, name));
    expect(result.err).not.toMatch(/: error: /);
    expect(result.code).toBe(0);
  });

  it('all of them together validate as one project', async () => {
    const result = await validate(FIXTURES);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^ok: 10 files, 0 journeys, 3 rules, 2 triggers, 4 channels \(\d+ warnings\)\n$/,
    );
  });
});
