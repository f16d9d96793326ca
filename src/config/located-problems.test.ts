import { describe, expect, it } from 'vitest';
import { validateConfigSources, type ConfigSource } from './loader.js';
import type { ConfigProblem } from './problems.js';

/**
 * One test per kind of broken config: each must be reported at the right file, line and column,
 * with the path inside the file and a message saying what was expected.
 */

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function problemsOf(sources: ConfigSource[] | string): ConfigProblem[] {
  const list = typeof sources === 'string' ? [{ file: 'config.yaml', text: sources }] : sources;
  return [...validateConfigSources(list).problems];
}

function onlyError(sources: ConfigSource[] | string): ConfigProblem {
  const errors = problemsOf(sources).filter((p) => p.severity === 'error');
  expect(errors, JSON.stringify(errors, null, 2)).toHaveLength(1);
  return errors[0]!;
}

const RULE_HEAD = ['rules:', '  - id: r1', '    name: Rule one'];
const ANY_CONDITIONS = '    conditions: {conditions: [{field: a, operator: exists}]}';

describe('located config problems', () => {
  it('YAML syntax error', () => {
    const p = onlyError(yaml('rules:', '  - id: a', '    name: [unclosed', 'triggers: []'));
    expect(p).toMatchObject({ file: 'config.yaml', line: 4, column: 1, path: '' });
    expect(p.message).toMatch(/^YAML syntax error: Flow sequence .* must .* end with a \]/);
  });

  it('duplicate key in a mapping, naming the first', () => {
    const p = onlyError(
      yaml('channels:', '  email:', '    provider: sendgrid', '    provider: ses'),
    );
    expect(p).toMatchObject({ line: 4, column: 5, path: 'channels.email.provider' });
    expect(p.message).toBe(
      "duplicate key 'provider' (first at line 3, column 5); the later value would silently win",
    );
  });

  it('duplicate rule id across two files, at the second, naming the first', () => {
    const rule = (id: string) => [
      `  - id: ${id}`,
      '    name: R',
      ANY_CONDITIONS.slice(0),
      '    actions: [{type: create_alert}]',
    ];
    const p = onlyError([
      { file: 'a.yaml', text: yaml('rules:', ...rule('same')) },
      { file: 'b.yaml', text: yaml('rules:', ...rule('other'), ...rule('same')) },
    ]);
    expect(p).toMatchObject({ file: 'b.yaml', line: 6, column: 9, path: 'rules[1].id' });
    expect(p.message).toBe("duplicate rule id 'same': first defined at a.yaml:2:9");
  });

  it('duplicate channel across two files', () => {
    const p = onlyError([
      { file: 'a.yaml', text: yaml('channels:', '  email: {provider: sendgrid}') },
      {
        file: 'b.yaml',
        text: yaml('channels:', '  sms: {provider: twilio}', '  email: {provider: ses}'),
      },
    ]);
    expect(p).toMatchObject({ file: 'b.yaml', line: 3, column: 3, path: 'channels.email' });
    expect(p.message).toBe("channel 'email' is already defined at a.yaml:2:3");
  });

  it('unknown top-level key with a hint', () => {
    const p = onlyError(yaml('journeys: []', 'rule:', '  - id: x'));
    expect(p).toMatchObject({ line: 2, column: 1, path: 'rule' });
    expect(p.message).toMatch(
      /^unknown top-level key 'rule' \(did you mean 'rules'\?\); expected one of 'schedules'/,
    );
  });

  it('unknown field with did-you-mean', () => {
    const p = onlyError(
      yaml(...RULE_HEAD, '    priorty: 3', ANY_CONDITIONS, '    actions: [{type: create_alert}]'),
    );
    expect(p).toMatchObject({ line: 4, column: 5, path: 'rules[0].priorty' });
    expect(p.message).toMatch(
      /^unknown field 'priorty' \(did you mean 'priority'\?\); expected one of 'id', 'name'/,
    );
  });

  it('unknown condition operator', () => {
    const p = onlyError(
      yaml(
        ...RULE_HEAD,
        '    conditions:',
        '      logic: AND',
        '      conditions:',
        '        - field: customer.health_score',
        '          operator: less_than',
        '          value: 40',
        '    actions: [{type: create_alert}]',
      ),
    );
    expect(p).toMatchObject({
      line: 8,
      column: 21,
      path: 'rules[0].conditions.conditions[0].operator',
    });
    expect(p.message).toMatch(
      /^expected one of 'eq', 'ne', 'gt', .*'not_exists'; found string 'less_than'$/,
    );
  });

  it('missing value for gt, located at the condition', () => {
    const p = onlyError(
      yaml(
        'triggers:',
        '  - name: t',
        '    conditions:',
        '      - field: days_since_login',
        '        operator: gt',
        '    action: create_task',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 9, path: 'triggers[0].conditions[0].value' });
    expect(p.message).toBe(
      "operator 'gt' needs a number, a string or an ISO date value; found nothing",
    );
  });

  it('a non-list value for in', () => {
    const p = onlyError(
      yaml(
        'triggers:',
        '  - name: t',
        '    conditions:',
        '      - field: plan',
        '        operator: in',
        '        value: enterprise',
        '    action: create_task',
      ),
    );
    expect(p).toMatchObject({ line: 6, column: 16, path: 'triggers[0].conditions[0].value' });
    expect(p.message).toBe(
      "operator 'in' needs a list value such as [a, b]; found string 'enterprise'",
    );
  });

  it('a value for exists', () => {
    const p = onlyError(
      yaml(
        'triggers:',
        '  - name: t',
        '    conditions:',
        '      - {field: first_login, operator: exists, value: true}',
        '    action: create_task',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 55, path: 'triggers[0].conditions[0].value' });
    expect(p.message).toBe("operator 'exists' takes no value; remove 'value' (found boolean true)");
  });

  it('bad logic', () => {
    const p = onlyError(
      yaml(
        ...RULE_HEAD,
        '    conditions:',
        '      logic: and',
        '      conditions: [{field: a, operator: exists}]',
        '    actions: [{type: create_alert}]',
      ),
    );
    expect(p).toMatchObject({ line: 5, column: 14, path: 'rules[0].conditions.logic' });
    expect(p.message).toBe("expected one of 'AND', 'OR'; found string 'and' (did you mean 'AND'?)");
  });

  it('bad duration', () => {
    const p = onlyError(
      yaml('channels:', '  in_app:', '    provider: internal', '    persistence: 5 parsecs'),
    );
    expect(p).toMatchObject({ line: 4, column: 18, path: 'channels.in_app.persistence' });
    expect(p.message).toMatch(
      /^unknown duration unit 'parsecs' in '5 parsecs'; expected ms, s, m, h, d, w, mo or y/,
    );
  });

  it('bad rate', () => {
    const p = onlyError(yaml('channels:', '  email:', '    rate_limit: 100/fortnight'));
    expect(p).toMatchObject({ line: 3, column: 17, path: 'channels.email.rate_limit' });
    expect(p.message).toMatch(/^expected a rate such as 100\/minute.*; found '100\/fortnight'/);
  });

  it('bad time window', () => {
    const p = onlyError(yaml('channels:', '  push:', '    silent_hours: "25:00-08:00"'));
    expect(p).toMatchObject({ line: 3, column: 19, path: 'channels.push.silent_hours' });
    expect(p.message).toBe(
      "expected a time window such as 22:00-08:00 or 09:00-17:00; hour 25 in '25:00' is out of range 00–23",
    );
  });

  it('bad cron expression', () => {
    const p = onlyError(yaml('schedules:', '  - name: Morning', '    cron: "0 25 * * 1-5"'));
    expect(p).toMatchObject({ line: 3, column: 11, path: 'schedules[0].cron' });
    expect(p.message).toBe("invalid cron expression '0 25 * * 1-5': Invalid value for hour: 25");
  });

  it('relative schedules: anchor or after_event, and only relative takes at', () => {
    const both = onlyError(
      yaml(
        'schedules:',
        '  - name: Welcome',
        '    relative: 7 days',
        '    anchor: signup_date',
        '    after_event: customer.created',
      ),
    );
    expect(both).toMatchObject({ path: 'schedules[0].after_event' });
    expect(both.message).toBe("a schedule counts from 'anchor' or from 'after_event', not both");
    const at = onlyError(
      yaml('schedules:', '  - name: M', '    cron: "0 9 * * *"', '    at: "10:00"'),
    );
    expect(at.message).toContain("'at' only applies with 'relative'");
    const misfire = onlyError(
      yaml('schedules:', '  - name: M', '    cron: "0 9 * * *"', '    misfire: twice'),
    );
    expect(misfire).toMatchObject({ line: 4, path: 'schedules[0].misfire' });
  });

  it('business hours cannot run over midnight', () => {
    const p = onlyError(yaml('defaults:', '  business_hours:', '    hours: "22:00-06:00"'));
    expect(p).toMatchObject({ line: 3, path: 'defaults.business_hours.hours' });
    expect(p.message).toBe('business hours cannot run over midnight');
  });

  it('bad time zone, with the closest zone', () => {
    const p = onlyError(
      yaml('schedules:', '  - name: Morning', '    cron: "0 9 * * *"', '    timezone: Europe/Pari'),
    );
    expect(p).toMatchObject({ line: 4, column: 15, path: 'schedules[0].timezone' });
    expect(p.message).toContain("found 'Europe/Pari' (did you mean 'Europe/Paris'?)");
  });

  it('unresolved fallback channel', () => {
    const p = onlyError(
      yaml('channels:', '  email:', '    fallback: smss', '  sms: {provider: twilio}'),
    );
    expect(p).toMatchObject({ line: 3, column: 15, path: 'channels.email.fallback' });
    expect(p.message).toBe(
      "unknown fallback channel 'smss' (did you mean 'sms'?); defined channels: 'email', 'sms'",
    );
  });

  it('a fallback chain that loops', () => {
    const p = onlyError(yaml('channels:', '  email: {fallback: sms}', '  sms: {fallback: email}'));
    expect(p).toMatchObject({ line: 2, column: 21, path: 'channels.email.fallback' });
    expect(p.message).toBe('fallback chain loops: email → sms → email');
  });

  it('unresolved retry policy', () => {
    const p = onlyError(
      yaml(
        'retry_policies:',
        '  default: {max_attempts: 3, backoff: exponential}',
        'channels:',
        '  email:',
        '    retry_policy: defualt',
      ),
    );
    expect(p).toMatchObject({ line: 5, column: 19, path: 'channels.email.retry_policy' });
    expect(p.message).toBe(
      "unknown retry policy 'defualt' (did you mean 'default'?); defined retry_policies: 'default'",
    );
  });

  it('unknown trigger action, listing what it could be', () => {
    const p = onlyError(
      yaml(
        'actions:',
        '  notify_csm: [{type: escalate_to_csm}]',
        'triggers:',
        '  - name: t',
        '    event: customer.created',
        '    action: notify_csms',
      ),
    );
    expect(p).toMatchObject({ line: 6, column: 13, path: 'triggers[0].action' });
    expect(p.message).toBe(
      "unknown action 'notify_csms' (did you mean 'notify_csm'?); expected an entry of 'actions' ('notify_csm'), " +
        'enroll_<journey>_journey or trigger_<journey>_journey, or a built-in action (escalate_to_csm, schedule_message, create_alert, create_task, exit_journey)',
    );
  });

  const JOURNEY = [
    'journeys:',
    '  - id: onboarding',
    '    stages:',
    '      - id: welcome',
    '        steps: [{type: exit}]',
  ];
  const ENROLL_RULE = (journey: string) => [
    ...RULE_HEAD,
    ANY_CONDITIONS,
    '    actions:',
    '      - type: enroll_journey',
    `        params: {journey_id: ${journey}}`,
  ];

  it('unknown journey in enroll_journey is an error when journeys are defined', () => {
    const p = onlyError(yaml(...JOURNEY, ...ENROLL_RULE('onboardin')));
    expect(p).toMatchObject({
      line: 12,
      column: 30,
      path: 'rules[0].actions[0].params.journey_id',
    });
    expect(p.message).toBe(
      "unknown journey 'onboardin' (did you mean 'onboarding'?); defined journeys: 'onboarding'",
    );
  });

  it('unknown journey in enroll_journey is a warning when no journeys are defined', () => {
    const problems = problemsOf(yaml(...ENROLL_RULE('onboarding_v2')));
    expect(problems).toEqual([
      {
        file: 'config.yaml',
        line: 7,
        column: 30,
        path: 'rules[0].actions[0].params.journey_id',
        message: "journey 'onboarding_v2' cannot be checked: this config defines no journeys",
        severity: 'warning',
      },
    ]);
  });

  it('advance_stage to a stage no journey has', () => {
    const p = onlyError(
      yaml(
        ...JOURNEY,
        ...RULE_HEAD,
        ANY_CONDITIONS,
        '    actions: [{type: advance_stage, params: {stage: activation}}]',
      ),
    );
    expect(p).toMatchObject({ line: 10, column: 53, path: 'rules[0].actions[0].params.stage' });
    expect(p.message).toBe("unknown stage 'activation'; stages of any journey: 'welcome'");
  });

  it('bad stage target', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: onboarding',
        '    stages:',
        '      - id: welcome',
        '        steps:',
        '          - type: wait_for_event',
        '            events:',
        '              - {event: login.first, next: activaton}',
        '            timeout: 3 days',
        '      - id: activation',
        '        steps: [{type: exit}]',
      ),
    );
    expect(p).toMatchObject({
      line: 8,
      column: 44,
      path: 'journeys[0].stages[0].steps[0].events[0].next',
    });
    expect(p.message).toBe(
      "unknown target 'activaton' (did you mean 'activation'?); expected a stage id of journey 'onboarding' ('welcome', 'activation'), 'exit' or 'complete'",
    );
  });

  it('duplicate stage id in a journey', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: j',
        '    stages:',
        '      - {id: welcome, steps: [{type: exit}]}',
        '      - {id: welcome, steps: [{type: exit}]}',
      ),
    );
    expect(p).toMatchObject({ line: 5, column: 14, path: 'journeys[0].stages[1].id' });
    expect(p.message).toBe("duplicate stage id 'welcome' in journey 'j' (first at stages[0])");
  });

  it('send step with both template and content', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: j',
        '    stages:',
        '      - id: welcome',
        '        steps:',
        '          - type: send',
        '            channel: email',
        '            template: welcome',
        '            content: {body: Hello}',
      ),
    );
    expect(p).toMatchObject({
      line: 9,
      column: 22,
      path: 'journeys[0].stages[0].steps[0].content',
    });
    expect(p.message).toBe("a send step takes 'template' or 'content', not both");
  });

  it('unknown step type', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: j',
        '    stages:',
        '      - id: s',
        '        steps:',
        '          - type: sned',
        '            channel: email',
      ),
    );
    expect(p).toMatchObject({ line: 6, column: 19, path: 'journeys[0].stages[0].steps[0].type' });
    expect(p.message).toMatch(
      /^unknown type 'sned' \(did you mean 'send'\?\); expected one of 'send', 'wait'/,
    );
  });

  it('re_entry: cooldown without cooldown', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: j',
        '    entry:',
        '      event: customer.created',
        '      re_entry: cooldown',
        '    stages: [{id: s, steps: [{type: exit}]}]',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 7, path: 'journeys[0].entry.cooldown' });
    expect(p.message).toBe("re_entry: cooldown needs 'cooldown', a duration such as 30 days");
  });

  it('bad alert condition', () => {
    const p = onlyError(
      yaml(
        'alerts:',
        '  - name: High Error Rate',
        '    condition: "error_rate >> 0.01"',
        '    severity: critical',
      ),
    );
    expect(p).toMatchObject({ line: 3, column: 16, path: 'alerts[0].condition' });
    expect(p.message).toBe(
      "expected '<metric> <op> <number> [for <duration>]' such as 'error_rate > 0.01 for 5m'; found 'error_rate >> 0.01'",
    );
  });

  it('bad webhook event name', () => {
    const p = onlyError(
      yaml(
        'webhooks:',
        '  - name: CRM Sync',
        '    url: https://crm.example.com/hook',
        '    events: ["journey.completed", "journey.complete"]',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 35, path: 'webhooks[0].events[1]' });
    expect(p.message).toMatch(
      /^unknown journey event type 'journey.complete' \(did you mean 'journey.completed'\?\)/,
    );
  });

  it('wrong type: a string for priority', () => {
    const p = onlyError(
      yaml(
        ...RULE_HEAD,
        '    priority: high',
        ANY_CONDITIONS,
        '    actions: [{type: create_alert}]',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 15, path: 'rules[0].priority' });
    expect(p.message).toBe("expected a number; found string 'high'");
  });

  it('negative max_attempts', () => {
    const p = onlyError(
      yaml('retry_policies:', '  default:', '    max_attempts: -1', '    backoff: fixed'),
    );
    expect(p).toMatchObject({ line: 3, column: 19, path: 'retry_policies.default.max_attempts' });
    expect(p.message).toBe('expected a number at least 1; found number -1');
  });

  it('exponential backoff without initial_delay', () => {
    const p = onlyError(
      yaml(
        'retry_policies:',
        '  default:',
        '    max_attempts: 3',
        '    backoff:',
        '      type: exponential',
        '      max_delay: 1h',
      ),
    );
    expect(p).toMatchObject({
      line: 5,
      column: 7,
      path: 'retry_policies.default.backoff.initial_delay',
    });
    expect(p.message).toMatch(
      /^missing required field 'initial_delay': expected a duration such as 30s/,
    );
  });

  it('batch trigger without frequency', () => {
    const p = onlyError(
      yaml(
        'triggers:',
        '  - name: Nightly',
        '    conditions: [{field: health_score, operator: lt, value: 50}]',
        '    evaluation: batch',
        '    action: create_task',
      ),
    );
    expect(p).toMatchObject({ line: 2, column: 5, path: 'triggers[0].frequency' });
    expect(p.message).toBe(
      "evaluation: batch needs 'frequency', a duration such as 1h or a cron expression",
    );
  });

  it('unknown action type in a rule', () => {
    const p = onlyError(
      yaml(
        ...RULE_HEAD,
        ANY_CONDITIONS,
        '    actions:',
        '      - type: enroll_jouney',
        '        params: {journey_id: x}',
      ),
    );
    expect(p).toMatchObject({ line: 6, column: 15, path: 'rules[0].actions[0].type' });
    expect(p.message).toMatch(/^unknown type 'enroll_jouney' \(did you mean 'enroll_journey'\?\)/);
  });

  it('unbalanced template braces in action params', () => {
    const p = onlyError(
      yaml(
        ...RULE_HEAD,
        ANY_CONDITIONS,
        '    actions:',
        '      - type: create_alert',
        '        params:',
        '          assignee: "{{customer.csm_id"',
      ),
    );
    // Column 22 is the '{{' itself, just inside the quote.
    expect(p).toMatchObject({ line: 8, column: 22, path: 'rules[0].actions[0].params.assignee' });
    expect(p.message).toBe("template: '{{' is never closed with '}}'");
  });

  it('unknown template filter, pointing at the filter', () => {
    const p = onlyError(
      yaml(
        'journeys:',
        '  - id: j',
        '    stages:',
        '      - id: s',
        '        steps:',
        "          - { type: task, title: 'Call {{ customer.name | shout }}' }",
      ),
    );
    // Column 59 is the 's' of 'shout'.
    expect(p).toMatchObject({ line: 6, column: 59, path: 'journeys[0].stages[0].steps[0].title' });
    expect(p.message).toMatch(/^template: unknown filter "shout"; use one of upper, lower/);
  });

  it('unknown dashboard panel type', () => {
    const p = onlyError(
      yaml(
        'dashboards:',
        '  - name: Health',
        '    panels:',
        '      - {title: Active, type: gauges, query: "count(x)"}',
      ),
    );
    expect(p).toMatchObject({ line: 4, column: 31, path: 'dashboards[0].panels[0].type' });
    expect(p.message).toMatch(
      /^expected one of 'gauge', 'timeseries'.*; found string 'gauges' \(did you mean 'gauge'\?\)$/,
    );
  });

  it('a list section written as a mapping', () => {
    const p = onlyError(yaml('rules:', '  onboarding: {name: x}'));
    expect(p).toMatchObject({ line: 2, column: 3, path: 'rules' });
    expect(p.message).toBe("expected a list under 'rules'; found a mapping");
  });

  it('a file that is not a mapping', () => {
    const p = onlyError(yaml('- id: a', '- id: b'));
    expect(p).toMatchObject({ line: 1, column: 1, path: '' });
    expect(p.message).toMatch(
      /^expected a mapping of top-level keys \(schedules, triggers, .*\); found a list$/,
    );
  });

  it('unknown schedule referenced by a rule', () => {
    const p = onlyError(
      yaml(
        'schedules:',
        '  - {name: Business Hours, cron: "0 9 * * 1-5"}',
        ...RULE_HEAD,
        ANY_CONDITIONS,
        '    actions: [{type: create_alert}]',
        '    schedule: Busines Hours',
      ),
    );
    expect(p).toMatchObject({ line: 8, column: 15, path: 'rules[0].schedule' });
    expect(p.message).toBe(
      "unknown schedule 'Busines Hours' (did you mean 'Business Hours'?); defined schedules: 'Business Hours'",
    );
  });

  it('collects problems from every file, not only the first', () => {
    const problems = problemsOf([
      { file: 'a.yaml', text: yaml('channels:', '  email: {rate_limit: fast}') },
      { file: 'b.yaml', text: yaml('schedules:', '  - {name: s, cron: "nope"}') },
      { file: 'c.yaml', text: yaml('rules:', '  - id: r', '    name: [') },
    ]);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}`)).toEqual([
      'a.yaml:2:23 channels.email.rate_limit',
      'b.yaml:2:21 schedules[0].cron',
      'c.yaml:4:1 ',
    ]);
  });
});
