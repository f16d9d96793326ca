import { describe, expect, it } from 'vitest';
import { validateConfigSources } from './loader.js';

/** `send_time` on send steps and `selection` on templates: accepted forms and located errors. */

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function errorsOf(text: string) {
  return validateConfigSources([{ file: 'c.yaml', text }]).problems.filter(
    (p) => p.severity === 'error',
  );
}

const journey = (step: string) =>
  yaml(
    'channels:',
    '  email: { provider: smtp }',
    'templates:',
    '  t: { body: hi }',
    'journeys:',
    '  - id: j',
    '    entry: { event: e }',
    '    stages:',
    '      - id: s',
    '        steps:',
    `          - ${step}`,
  );

describe('send_time and selection in config', () => {
  it('accepts the shorthand, the object form and immediate', () => {
    for (const sendTime of [
      'optimal',
      'immediate',
      '{ mode: optimal }',
      '{ mode: optimal, within: 48 hours }',
    ]) {
      expect(
        errorsOf(journey(`{ type: send, channel: email, template: t, send_time: ${sendTime} }`)),
      ).toEqual([]);
    }
  });

  it('reports an unknown mode and a bad window where they are written', () => {
    const [mode] = errorsOf(
      journey('{ type: send, channel: email, template: t, send_time: soon }'),
    );
    expect(mode).toMatchObject({
      file: 'c.yaml',
      line: 11,
      path: 'journeys[0].stages[0].steps[0].send_time',
    });
    expect(mode?.message).toMatch(/optimal/u);
    const [window] = errorsOf(
      journey(
        '{ type: send, channel: email, template: t, send_time: { mode: optimal, within: -3h } }',
      ),
    );
    expect(window).toMatchObject({
      line: 11,
      path: 'journeys[0].stages[0].steps[0].send_time.within',
    });
    expect(window?.message).toMatch(/positive duration/u);
  });

  it('accepts selection: bandit on a template and rejects anything else', () => {
    const template = (selection: string) =>
      yaml(
        'templates:',
        '  t:',
        '    body: hi',
        `    selection: ${selection}`,
        '    variants: [{ name: a, body: A }, { name: b, body: B }]',
      );
    expect(errorsOf(template('bandit'))).toEqual([]);
    const [wrong] = errorsOf(template('greedy'));
    expect(wrong).toMatchObject({ line: 4, path: 'templates.t.selection' });
    expect(wrong?.message).toMatch(/weighted.*bandit|bandit.*weighted/u);
  });
});
