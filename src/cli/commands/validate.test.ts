import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../program.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/config');
const PROJECT = join(FIXTURES, 'project');
const BROKEN = join(FIXTURES, 'broken');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, {});
  return { code, out, err };
}

const BROKEN_PROBLEMS = [
  `${BROKEN}/a-rules.yaml:5:14: error: rules[0].conditions.logic: expected one of 'AND', 'OR'; found string 'and' (did you mean 'AND'?)`,
  `${BROKEN}/b-more-rules.yaml:2:9: error: rules[0].id: duplicate rule id 'welcome': first defined at ${BROKEN}/a-rules.yaml:2:9`,
  `${BROKEN}/b-more-rules.yaml:8:17: error: channels.email.rate_limit: expected a rate such as 100/minute, 50/second, 1000/hour or 5/day; found '100/fortnight' ('fortnight' is not a unit or duration)`,
];

describe('waymark validate (in-process)', () => {
  it('warns about provider settings a channel cannot send with, located, and still exits 0', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'waymark-validate-'));
    try {
      await writeFile(
        join(dir, 'channels.yaml'),
        'channels:\n  email:\n    provider: sendgrid\n    settings: { from: 7 }\n  push:\n    provider: smtp\n',
      );
      const result = await run('validate', dir);
      expect(result.code).toBe(0);
      expect(result.out).toBe(
        'ok: 1 file, 0 journeys, 0 rules, 0 triggers, 2 channels (2 warnings)\n',
      );
      expect(result.err.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(/channels\.yaml:4:\d+: warning: channels\.email\.settings\.from: /u),
        expect.stringMatching(
          /channels\.yaml:6:\d+: warning: channels\.push\.provider: provider 'smtp' cannot deliver push messages/u,
        ),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('valid directory: exit 0 and a one-line summary', async () => {
    const result = await run('validate', PROJECT);
    expect(result).toEqual({
      code: 0,
      out: 'ok: 4 files, 2 journeys, 2 rules, 4 triggers, 4 channels\n',
      err: '',
    });
  });

  it('valid with warnings: the summary counts them and stderr lists them', async () => {
    const file = join(FIXTURES, 'spec/02-triggers.yaml');
    const result = await run('validate', file);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      'ok: 1 file, 0 journeys, 0 rules, 2 triggers, 0 channels (2 warnings)\n',
    );
    expect(result.err.split('\n').filter(Boolean)).toEqual([
      `${file}:11:13: warning: triggers[0].action: journey 'risk_mitigation' (from action 'enroll_risk_mitigation_journey') cannot be checked: this config defines no journeys`,
      `${file}:25:13: warning: triggers[1].action: journey 'expansion' (from action 'enroll_expansion_journey') cannot be checked: this config defines no journeys`,
    ]);
  });

  it('invalid: exit 1, every problem as file:line:col: error: path: message, no stack trace', async () => {
    const result = await run('validate', BROKEN);
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toBe(`${BROKEN_PROBLEMS.join('\n')}\ninvalid: 3 errors\n`);
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  it('missing path: exit 1 with a clear message', async () => {
    const result = await run('validate', join(FIXTURES, 'does-not-exist'));
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `error[CONFIG_NOT_FOUND]: config path '${join(FIXTURES, 'does-not-exist')}' does not exist\n`,
    );
  });

  it('--json prints the problems and the summary', async () => {
    const invalid = await run('validate', '--json', BROKEN);
    expect(invalid.code).toBe(1);
    const report = JSON.parse(invalid.out) as {
      ok: boolean;
      problems: { line: number; path: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.line, p.path])).toEqual([
      [5, 'rules[0].conditions.logic'],
      [2, 'rules[0].id'],
      [8, 'channels.email.rate_limit'],
    ]);

    const valid = await run('validate', PROJECT, '--json');
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.out)).toMatchObject({
      ok: true,
      summary: { files: 4, journeys: 2, rules: 2, triggers: 4, channels: 4 },
      problems: [],
    });

    const missing = await run('validate', '--json', '/no/such/path');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toMatchObject({
      ok: false,
      error: { code: 'CONFIG_NOT_FOUND' },
    });
  });
});

// The real executable, as a user runs it. `npm test` builds dist/ before vitest; when this file
// runs alone (or dist/ is older than the sources) it builds first. Other components' type errors
// do not stop tsc from emitting, so the build is judged by its output, not its exit status.
describe('waymark validate (bin/waymark.js)', () => {
  const entry = join(ROOT, 'dist/cli/commands/validate.js');

  function newest(dir: string): number {
    let latest = 0;
    for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (name.endsWith('.ts')) latest = Math.max(latest, statSync(join(dir, name)).mtimeMs);
    }
    return latest;
  }

  beforeAll(() => {
    const sources = Math.max(newest(join(ROOT, 'src/config')), newest(join(ROOT, 'src/cli')));
    if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
      try {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch {
        // judged below by the emitted files
      }
    }
    expect(existsSync(entry)).toBe(true);
  }, 180_000);

  it('exits 0 on a valid config and 1 with located problems on a broken one', () => {
    const bin = join(ROOT, 'bin/waymark.js');
    const ok = spawnSync(process.execPath, [bin, 'validate', PROJECT], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('ok: 4 files, 2 journeys, 2 rules, 4 triggers, 4 channels\n');

    const broken = spawnSync(process.execPath, [bin, 'validate', BROKEN], { encoding: 'utf8' });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toBe(`${BROKEN_PROBLEMS.join('\n')}\ninvalid: 3 errors\n`);
  });
});
