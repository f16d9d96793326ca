import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './program.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('waymark CLI', () => {
  it('rejects an unknown command with a usage error and exit code 1', async () => {
    const c = capture();
    const code = await main(['no-such-command'], c.io, {});
    expect(code).toBe(1);
    expect(c.err()).toMatch(/^error: /);
    expect(c.err()).toContain('Usage: waymark');
  });

  it('prints the version and exits 0', async () => {
    const c = capture();
    expect(await main(['--version'], c.io, {})).toBe(0);
    expect(c.out()).toMatch(/\d+\.\d+\.\d+/);
  });

  it('lists every located config problem when a command cannot load its config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'channels:\n  email:\n    provider: smtp\n    fallback: pigeon\ntriggers:\n  - name: t\n    event: a\n    action: frobnicate\n',
    );
    const c = capture();
    const code = await main(
      ['simulate', '--config', file, '--until', '2026-01-01T00:00:00Z'],
      c.io,
      {},
    );
    expect(code).toBe(1);
    expect(c.err()).toContain(`${file}:4:15: error: channels.email.fallback`);
    expect(c.err()).toContain(`${file}:8:13: error: triggers[0].action`);
    expect(c.err()).toContain('error[CONFIG_INVALID]: invalid configuration (2 errors)');
  });
});
