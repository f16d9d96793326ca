import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../config/index.js';
import { main } from '../program.js';

describe('waymark schema', () => {
  it('prints the JSON Schema of the config language', async () => {
    let out = '';
    const code = await main(['schema'], { stdout: (t) => (out += t), stderr: () => undefined }, {});
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('writes it to a file with --out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waymark-schema-'));
    try {
      const file = join(dir, 'nested/waymark.schema.json');
      let out = '';
      const code = await main(
        ['schema', '--out', file],
        { stdout: (t) => (out += t), stderr: () => undefined },
        {},
      );
      expect(code).toBe(0);
      expect(out).toBe(`wrote ${file}\n`);
      const written = JSON.parse(await readFile(file, 'utf8')) as { title: string };
      expect(written.title).toBe('Waymark configuration');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
