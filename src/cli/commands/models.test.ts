import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import { main } from '../program.js';

/** The shared reference data, outside the project (absent outside this workspace). */
const TELCO = '../shared/data/telco-churn-train.csv';
const HILLSTROM = '../shared/data/hillstrom-train.csv';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, {});
  return { code, out, err };
}

describe('waymark models (in-process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-models-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(TELCO))('train churn → score round trip on the Telco file', async () => {
    const model = join(dir, 'churn.json');
    const trained = await run(
      'models',
      'train',
      'churn',
      '--data',
      TELCO,
      '--label',
      'Churn',
      '--positive',
      'Yes',
      '--id',
      'customerID',
      '--out',
      model,
    );
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/TotalCharges\s+numeric\s+8 blanks → imputed with the median/u);
    expect(trained.out).toMatch(/Contract\s+categorical\s+3 levels/u);
    expect(trained.out).toMatch(/ROC-AUC\s+0\.8\d{3} ± 0\.0\d{3}/u);
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    expect(saved).toMatchObject({ kind: 'churn', version: 1, training: { rows: 5634 } });
    expect(saved.metrics.rocAuc.mean).toBeGreaterThanOrEqual(0.85);

    const scores = join(dir, 'scores.csv');
    const scored = await run(
      'models',
      'score',
      '--model',
      model,
      '--data',
      TELCO,
      '--out',
      scores,
      '--factors',
    );
    expect(scored).toMatchObject({ code: 0, err: '' });
    const lines = readFileSync(scores, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('id,score,factors');
    expect(lines).toHaveLength(5635);
    const [id, score, factors] = (lines[1] ?? '').split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/u);
    expect(id).toBe('6950-TWMYB');
    expect(Number(score)).toBeGreaterThan(0);
    expect(Number(score)).toBeLessThan(1);
    expect(factors).toMatch(/^"?\w+=[^;]+ \([+-]\d+\.\d\d\)(; \w+=[^;]+ \([+-]\d+\.\d\d\)){2}"?$/u);

    // Without --factors: exactly id,score.
    const plain = await run('models', 'score', '--model', model, '--data', TELCO, '--out', scores);
    expect(plain.code).toBe(0);
    expect(readFileSync(scores, 'utf8').split('\n')[0]).toBe('id,score');

    // A churn model cannot decide.
    const wrong = await run(
      'models',
      'decide',
      '--model',
      model,
      '--data',
      TELCO,
      '--out',
      join(dir, 'x.csv'),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^error\[MODEL_KIND\]: .*a churn model; decide needs an nba policy/u);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it.skipIf(!existsSync(HILLSTROM))(
    'train nba → decide round trip on the Hillstrom file',
    async () => {
      const model = join(dir, 'nba.json');
      const trained = await run(
        'models',
        'train',
        'nba',
        '--data',
        HILLSTROM,
        '--id',
        'id',
        '--action-column',
        'segment',
        '--reward',
        'visit',
        '--exclude',
        'conversion,spend',
        '--out',
        model,
      );
      expect(trained.err).toBe('');
      expect(trained.code).toBe(0);
      expect(trained.out).toContain('everyone Mens E-Mail: ');
      expect(trained.out).toMatch(/policy \/ best single action \(Mens E-Mail\): \d\.\d{4}/u);
      const actions = join(dir, 'actions.csv');
      const decided = await run(
        'models',
        'decide',
        '--model',
        model,
        '--data',
        HILLSTROM,
        '--out',
        actions,
      );
      expect(decided).toMatchObject({ code: 0, err: '' });
      const lines = readFileSync(actions, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('id,action');
      expect(lines).toHaveLength(44801);
      for (const line of lines.slice(1, 200)) {
        expect(line).toMatch(/^h\d+,(Mens E-Mail|Womens E-Mail|No E-Mail)$/u);
      }
    },
  );

  describe('bad input: a located error, exit 1, no output file', () => {
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const churn = (data: string, out: string, positive = 'Yes') =>
      run(
        'models',
        'train',
        'churn',
        '--data',
        data,
        '--label',
        'Churn',
        '--positive',
        positive,
        '--id',
        'id',
        '--out',
        out,
      );

    it.each([
      ['an empty file', '', /^error\[INVALID_INPUT\]: .*empty\.csv: the file is empty\n$/u],
      ['a header only', 'id,a,Churn\n', /header-only\.csv:1: a header but no data rows/u],
      [
        'a ragged row',
        'id,a,Churn\n1,2,Yes\n2,3\n',
        /ragged\.csv:3: 2 cells but the header has 3 columns/u,
      ],
      [
        'no label column',
        'id,a\n1,2\n',
        /no-label\.csv:1: no label column 'Churn' \(columns: id, a\)/u,
      ],
      [
        'a blank label',
        'id,a,Churn\n1,2,Yes\n2,3,\n',
        /blank-label\.csv:3: the label 'Churn' is blank/u,
      ],
      [
        'an unclosed quote',
        'id,a,Churn\n1,"2,Yes\n',
        /quote\.csv:2: a quoted field is never closed/u,
      ],
    ])('%s', async (_, text, message) => {
      const name = (message.source.match(/([a-z-]+)\\\.csv/u)?.[1] ?? 'x') + '.csv';
      const out = join(dir, `bad-${name}.json`);
      const result = await churn(write(name, text), out);
      expect(result.code).toBe(1);
      expect(result.out).toBe('');
      expect(result.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });

    it('a --positive value the label never takes lists the values seen', async () => {
      const out = join(dir, 'never.json');
      const result = await churn(write('never.csv', 'id,a,Churn\n1,2,Yes\n2,3,No\n'), out, 'yes');
      expect(result.code).toBe(1);
      expect(result.err).toContain(
        "never.csv:1: no row has Churn = 'yes' (--positive); values seen: 'Yes', 'No'",
      );
      expect(existsSync(out)).toBe(false);
    });

    it('a missing file and a missing required option', async () => {
      const missing = await churn(join(dir, 'nope.csv'), join(dir, 'o.json'));
      expect(missing.err).toMatch(/nope\.csv: no such file or not readable/u);
      expect(missing.code).toBe(1);
      const usage = await run('models', 'score', '--model', 'm.json', '--data', 'd.csv');
      expect(usage.code).toBe(1);
      expect(usage.err).toContain("required option '--out <file>' not specified");
    });

    it('a model file that is not one, and scoring data that lacks a column', async () => {
      const out = join(dir, 'bad-scores.csv');
      const notJson = await run(
        'models',
        'score',
        '--model',
        write('m.json', '{"kind":'),
        '--data',
        write('d.csv', 'id\n1\n'),
        '--out',
        out,
      );
      expect(notJson.code).toBe(1);
      expect(notJson.err).toMatch(/^error\[MODEL_INVALID\]: .*m\.json: not JSON/u);
      const wrongShape = await run(
        'models',
        'score',
        '--model',
        write('m2.json', '{"kind":"churn"}'),
        '--data',
        join(dir, 'd.csv'),
        '--out',
        out,
      );
      expect(wrongShape.err).toMatch(
        /^error\[MODEL_INVALID\]: .*m2\.json: not a Waymark model file/u,
      );

      const train = write(
        'small.csv',
        'id,x,c,Churn\n' +
          Array.from(
            { length: 40 },
            (_, i) => `${i},${i % 7},${i % 3 === 0 ? 'a' : 'b'},${i % 2 === 0 ? 'Yes' : 'No'}`,
          ).join('\n') +
          '\n',
      );
      const model = join(dir, 'small.json');
      expect((await churn(train, model)).code).toBe(0);
      const lacks = await run(
        'models',
        'score',
        '--model',
        model,
        '--data',
        write('lacks.csv', 'id,x\n1,2\n'),
        '--out',
        out,
      );
      expect(lacks.code).toBe(1);
      expect(lacks.err).toContain("lacks.csv:1: the model needs column 'c', which this file lacks");
      const text = await run(
        'models',
        'score',
        '--model',
        model,
        '--data',
        write('text.csv', 'id,x,c\n1,2,a\n2,two,b\n'),
        '--out',
        out,
      );
      expect(text.err).toContain("text.csv:3: column 'x' must be a number; got 'two'");
      expect(existsSync(out)).toBe(false);
      // No temporary files left behind either.
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('nba: a reward that is not 0/1 and an action column with one value', async () => {
      const out = join(dir, 'p.json');
      const nba = (file: string) =>
        run(
          'models',
          'train',
          'nba',
          '--data',
          file,
          '--id',
          'id',
          '--action-column',
          'a',
          '--reward',
          'r',
          '--out',
          out,
        );
      const reward = await nba(write('reward.csv', 'id,x,a,r\n1,1,m,1\n2,2,w,yes\n'));
      expect(reward.code).toBe(1);
      expect(reward.err).toContain("reward.csv:3: the reward 'r' must be 0 or 1; got 'yes'");
      const one = await nba(write('one.csv', 'id,x,a,r\n1,1,m,1\n2,2,m,0\n'));
      expect(one.err).toContain("the action column 'a' has 1 value; a policy needs at least 2");
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe('waymark models register / list (the registry in the store)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-registry-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A small seeded accounts file: churn follows the contract. */
  function accountsCsv(): string {
    const lines = ['id,tenure,Contract,churned'];
    for (let i = 0; i < 200; i++) {
      const monthly = i % 2 === 0;
      const churned = monthly ? i % 6 !== 4 : i % 10 === 1;
      lines.push(
        `a${i},${i % 60},${monthly ? 'Month-to-month' : 'Two year'},${churned ? 'Yes' : 'No'}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  it('registers a trained model as numbered versions and lists them', async () => {
    const csv = join(dir, 'accounts.csv');
    writeFileSync(csv, accountsCsv());
    const model = join(dir, 'churn.json');
    const trained = await run(
      'models',
      'train',
      'churn',
      '--data',
      csv,
      '--label',
      'churned',
      '--positive',
      'Yes',
      '--id',
      'id',
      '--out',
      model,
    );
    expect(trained).toMatchObject({ code: 0, err: '' });
    const data = join(dir, 'data');

    const first = await run(
      'models',
      'register',
      '--name',
      'churn_predictor_v2',
      '--model',
      model,
      '--data',
      data,
    );
    expect(first.err).toBe('');
    expect(first.out).toMatch(
      /^registered churn_predictor_v2 version 1 \(churn, cv ROC-AUC 0\.\d{4}\)/u,
    );
    const second = await run(
      'models',
      'register',
      '--name',
      'churn_predictor_v2',
      '--model',
      model,
      '--data',
      data,
    );
    expect(second.out).toMatch(/version 2/u);

    const listed = await run('models', 'list', '--data', data);
    expect(listed.code).toBe(0);
    const rows = listed.out.trimEnd().split('\n');
    expect(rows[0]).toBe('name\tversion\tkind\tregistered\tmetrics\tsource');
    expect(rows.slice(1).map((r) => r.split('\t').slice(0, 3).join(' '))).toEqual([
      'churn_predictor_v2 2 churn',
      'churn_predictor_v2 1 churn',
    ]);

    // A project's config names its store, as for every other command.
    const project = join(dir, 'project.yaml');
    writeFileSync(project, `server:\n  data_dir: ${JSON.stringify(data)}\n`);
    const third = await run(
      'models',
      'register',
      '--name',
      'churn_predictor_v2',
      '--model',
      model,
      '--config',
      project,
    );
    expect(third.out).toMatch(/version 3/u);
    const byConfig = await run(
      'models',
      'list',
      '--config',
      project,
      '--name',
      'churn_predictor_v2',
    );
    expect(byConfig.out.trimEnd().split('\n')).toHaveLength(4);
  });

  it('refuses a bad name, a missing file and a missing store, with a located message', async () => {
    const bad = await run(
      'models',
      'register',
      '--name',
      'no spaces',
      '--model',
      'x.json',
      '--data',
      dir,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--name must be/u);
    const missing = await run(
      'models',
      'register',
      '--name',
      'm',
      '--model',
      join(dir, 'none.json'),
      '--data',
      dir,
    );
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/none\.json: no such file/u);
    const saved = process.env['DATABASE_URL'];
    delete process.env['DATABASE_URL'];
    try {
      const nowhere = await run('models', 'list');
      expect(nowhere.code).not.toBe(0);
      expect(nowhere.err).toMatch(/pass --data DIR .* or set DATABASE_URL/u);
    } finally {
      if (saved !== undefined) process.env['DATABASE_URL'] = saved;
    }
  });
});

describe('waymark models retrain (training on the store’s customers)', () => {
  it('trains the configured model on the profiles and registers it; explains what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-retrain-'));
    try {
      const project = join(dir, 'waymark.yaml');
      writeFileSync(
        project,
        'models:\n  upsell:\n    train: { label: expanded, features: [seats, plan], min_rows: 20 }\n',
      );
      const data = join(dir, 'data');
      const store = await openStore({ dataDir: data });
      await store.upsertCustomers(
        Array.from({ length: 60 }, (_, i) => ({
          id: `c${i}`,
          attributes: {
            seats: i,
            plan: i % 2 === 0 ? 'team' : 'pro',
            expanded: i % 3 === 0 || i > 40,
          },
          createdAt: 0,
          updatedAt: 0,
        })),
      );
      await store.close();

      const trained = await run('models', 'retrain', 'upsell', '--config', project, '--data', data);
      expect(trained.err).toBe('');
      expect(trained.out).toMatch(
        /^trained upsell version 1 \(cv ROC-AUC 0\.\d{4}, retrain on 60 customers\)\n$/u,
      );
      const unknown = await run('models', 'retrain', 'nope', '--config', project, '--data', data);
      expect(unknown.code).not.toBe(0);
      expect(unknown.err).toMatch(/no model 'nope' under models \(upsell\)/u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
