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
});
