import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  loadConfig,
  loadConfigFromString,
  listConfigFiles,
  validateConfig,
  validateConfigSources,
} from './loader.js';
import { ConfigError, ConfigNotFoundError } from './problems.js';

const PROJECT = join(import.meta.dirname, '../../test/fixtures/config/project');

const temporary: string[] = [];
async function directory(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'waymark-config-'));
  temporary.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loading a directory', () => {
  it('reads *.yaml and *.yml recursively in sorted order, skipping other and hidden files', async () => {
    const root = await directory({
      'b.yaml': 'rules: []',
      'a.yml': 'triggers: []',
      'sub/c.yaml': 'journeys: []',
      'notes.txt': 'not: config',
      '.hidden/d.yaml': 'nonsense: [',
    });
    const files = await listConfigFiles(root);
    expect(files.map((f) => f.slice(root.length + 1))).toEqual(['a.yml', 'b.yaml', 'sub/c.yaml']);
  });

  it('fails clearly when the path is missing or holds no YAML', async () => {
    await expect(loadConfig('/no/such/waymark/config')).rejects.toThrow(ConfigNotFoundError);
    await expect(loadConfig('/no/such/waymark/config')).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: "config path '/no/such/waymark/config' does not exist",
    });
    const empty = await directory({ 'readme.md': '# nothing' });
    await expect(validateConfig(empty)).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });
  });

  it('concatenates lists and merges maps across files', async () => {
    const root = await directory({
      '1.yaml':
        'channels: {email: {provider: sendgrid}}\nrate_limits: {customer: {email: {daily: 3}}}',
      '2.yaml':
        'channels: {sms: {provider: twilio}}\nrate_limits: {customer: {sms: {daily: 1}}, global: {email: {per_minute: 10}}}',
      '3.yaml': 'server: {port: 8080}\n---\nserver: {host: 0.0.0.0}',
    });
    const { config } = await loadConfig(root);
    expect(Object.keys(config.channels)).toEqual(['email', 'sms']);
    expect(config.rate_limits).toMatchObject({
      customer: { email: { daily: 3 }, sms: { daily: 1 } },
      global: { email: { per_minute: 10 } },
      when_capped: 'defer',
      bypass: ['critical'],
    });
    expect(config.server).toEqual({ port: 8080, host: '0.0.0.0', data_dir: 'data', sources: [] });
  });

  it('throws ConfigError with every problem, located', async () => {
    const root = await directory({
      'a.yaml': 'rules:\n  - id: x\n',
      'b.yaml': 'channels:\n  email: {rate_limit: often}\n',
    });
    const error = await loadConfig(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => [p.file.slice(root.length + 1), p.line, p.path])).toEqual([
      ['a.yaml', 2, 'rules[0].name'],
      ['a.yaml', 2, 'rules[0].conditions'],
      ['a.yaml', 2, 'rules[0].actions'],
      ['b.yaml', 2, 'channels.email.rate_limit'],
    ]);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigError).toJSON().details).toEqual(problems);
  });
});

describe('the example project', () => {
  it('loads with units compiled, defaults applied and references resolved', async () => {
    const loaded = await loadConfig(PROJECT);
    const { config } = loaded;
    expect(loaded.warnings).toEqual([]);
    expect(loaded.files.map((f) => f.slice(PROJECT.length + 1))).toEqual([
      'automation.yaml',
      'delivery.yaml',
      'journeys/onboarding.yaml',
      'observability.yml',
    ]);

    // durations, rates, windows, percentages, cron and zones are compiled once
    expect(config.channels['email']?.rate_limit).toEqual({
      text: '100/minute',
      count: 100,
      perMs: 60_000,
    });
    expect(config.channels['in_app']?.persistence).toMatchObject({
      amount: 7,
      unit: 'day',
      ms: 604_800_000,
    });
    expect(config.channels['csm_tasks']?.type).toBe('tasks');
    expect(config.channels['sms']?.type).toBe('sms');
    expect(config.defaults).toEqual({
      timezone: 'Europe/Paris',
      quiet_hours: { text: '22:00-08:00', startMinute: 1320, endMinute: 480, wrapsMidnight: true },
      business_hours: {
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        hours: { text: '09:00-17:00', startMinute: 540, endMinute: 1020, wrapsMidnight: false },
        holidays: [],
      },
      retention: {
        trigger_executions: expect.objectContaining({ ms: 30 * 86_400_000 }) as unknown,
      },
    });
    expect(config.schedules[0]).toMatchObject({
      kind: 'cron',
      cron: { text: '0 9 * * 1-5', hasSeconds: false },
      timezone: { kind: 'customer_field', field: 'customer.timezone' },
    });
    expect(config.schedules[1]).toMatchObject({
      kind: 'relative',
      relative: { amount: -30, unit: 'day' },
    });
    expect(config.retry_policies['default']?.backoff).toMatchObject({
      type: 'exponential',
      initial_delay: { ms: 60_000 },
      max_delay: { ms: 3_600_000 },
      multiplier: 2,
    });

    // defaults from the schema
    const progression = config.rules.find((r) => r.id === 'stage_1_complete');
    expect(progression?.priority).toBe(100);
    expect(config.triggers[0]).toMatchObject({
      kind: 'condition',
      evaluation: 'real_time',
      enabled: true,
    });
    expect(config.triggers[1]?.frequency).toMatchObject({
      kind: 'interval',
      every: { ms: 86_400_000 },
    });
    expect(config.server).toEqual({ port: 3000, host: '127.0.0.1', data_dir: 'data', sources: [] });

    // trigger actions are settled
    expect(config.triggers.map((t) => t.action)).toEqual([
      {
        kind: 'enroll_journey',
        text: 'enroll_risk_mitigation_journey',
        journey: 'risk_mitigation',
      },
      { kind: 'named', text: 'notify_csm', name: 'notify_csm' },
      { kind: 'builtin', text: 'create_task', action: 'create_task' },
      undefined,
    ]);
    expect(config.predictions['churn_risk']?.action).toEqual({
      kind: 'builtin',
      text: 'escalate_to_csm',
      action: 'escalate_to_csm',
    });

    // journeys: step ids default to <stage>.<index>, percentages are fractions
    const onboarding = config.journeys[0]!;
    expect(onboarding.holdout).toBe(0.1);
    expect(onboarding.stages[0]?.steps.map((s) => s.id)).toEqual([
      'welcome_msg',
      'welcome.1',
      'welcome.2',
      'welcome.3',
    ]);
    const wait = onboarding.stages[2]?.steps[1];
    expect(wait).toMatchObject({
      type: 'wait',
      until_field: 'customer.contract.end_date',
      offset: { amount: -30, unit: 'day', calendar: true },
      at: { minute: 540 },
    });
    const until = config.journeys[1]?.stages[1]?.steps[0];
    expect(until).toMatchObject({ until: { epochMs: Date.UTC(2026, 2, 1, 9) } });
  });

  it('keeps where every item was written', async () => {
    const loaded = await loadConfig(PROJECT);
    const rule = loaded.config.rules[1]!;
    expect(loaded.sourceOf(rule)).toEqual({
      file: join(PROJECT, 'automation.yaml'),
      line: 53,
      column: 5,
      path: 'rules[1]',
    });
    const step = loaded.config.journeys[0]!.stages[1]!.steps[1]!;
    expect(loaded.sourceOf(step)).toMatchObject({
      file: join(PROJECT, 'journeys/onboarding.yaml'),
      line: 39,
      column: 13,
      path: 'journeys[0].stages[1].steps[1]',
    });
    expect(loaded.locate(['channels', 'sms', 'fallback'])).toEqual({
      file: join(PROJECT, 'delivery.yaml'),
      line: 15,
      column: 15,
      path: 'channels.sms.fallback',
    });
    expect(loaded.sourceOf({})).toBeUndefined();
  });
});

describe('references', () => {
  const journey =
    'journeys:\n  - id: expansion_journey\n    stages: [{id: s, steps: [{type: exit}]}]\n';

  it('accepts a journey literally named <name>_journey for enroll_<name>_journey', () => {
    const { config } = loadConfigFromString(
      `${journey}triggers:\n  - {name: t, event: x.y, action: trigger_expansion_journey}\n`,
    );
    expect(config.triggers[0]?.action).toEqual({
      kind: 'enroll_journey',
      text: 'trigger_expansion_journey',
      journey: 'expansion_journey',
    });
  });

  it('prefers a named action over a built-in form of the same name', () => {
    const { config } = loadConfigFromString(
      'actions:\n  create_task: [{type: create_alert}]\ntriggers:\n  - {name: t, event: x.y, action: create_task}\n',
    );
    expect(config.triggers[0]?.action).toEqual({
      kind: 'named',
      text: 'create_task',
      name: 'create_task',
    });
  });

  it('does not judge references into a section that failed its schema', () => {
    const result = validateConfigSources([
      {
        file: 'c.yaml',
        text: 'channels:\n  email: {rate_limit: nope}\njourneys:\n  - id: j\n    stages: [{id: s, steps: [{type: send, channel: email, content: {body: hi}}]}]\n',
      },
    ]);
    expect(result.problems.map((p) => p.path)).toEqual(['channels.email.rate_limit']);
  });

  it('returns warnings with a valid config', () => {
    const loaded = loadConfigFromString(
      'triggers:\n  - {name: t, event: x.y, action: enroll_onboarding_journey}\n',
      'triggers.yaml',
    );
    expect(loaded.warnings).toEqual([
      {
        file: 'triggers.yaml',
        line: 2,
        column: 35,
        path: 'triggers[0].action',
        message:
          "journey 'onboarding' (from action 'enroll_onboarding_journey') cannot be checked: this config defines no journeys",
        severity: 'warning',
      },
    ]);
  });

  it('an empty file is an empty, valid config', () => {
    const { config } = loadConfigFromString('# nothing yet\n');
    expect(config.rules).toEqual([]);
    expect(config.defaults.timezone).toBe('UTC');
  });
});

describe('robustness', () => {
  const sections = [
    'rules',
    'triggers',
    'journeys',
    'channels',
    'retry_policies',
    'schedules',
    'rate_limits',
    'server',
    'webhooks',
  ];

  it('property: any YAML text gives a config or located problems, never an exception', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = validateConfigSources([{ file: 'x.yaml', text }]);
        for (const problem of result.problems) {
          expect(problem.line).toBeGreaterThanOrEqual(1);
          expect(problem.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: any data under the real top-level keys is judged, never crashes', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...sections), fc.jsonValue({ maxDepth: 4 })),
        (data) => {
          const result = validateConfigSources([{ file: 'x.yaml', text: stringify(data) }]);
          expect(
            result.config !== undefined || result.problems.some((p) => p.severity === 'error'),
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an alias that contains itself is a located error, not a stack overflow', () => {
    const result = validateConfigSources([
      {
        file: 'x.yaml',
        text: 'actions:\n  a: &loop [{type: send_webhook, params: {url: "https://x", body: [*loop]}}]\n',
      },
    ]);
    expect(result.problems).toEqual([
      expect.objectContaining({ file: 'x.yaml', line: 2, column: 68, severity: 'error' }),
    ]);
    expect(result.problems[0]?.message).toMatch(/alias refers to a node that contains it/);
  });

  it('merge keys (<<) are honoured', () => {
    const { config } = loadConfigFromString(
      'channels:\n  email: &base {provider: sendgrid, opt_out_check: true}\n  sms:\n    <<: *base\n    provider: twilio\n',
    );
    expect(config.channels['sms']).toMatchObject({ provider: 'twilio', opt_out_check: true });
  });
});
