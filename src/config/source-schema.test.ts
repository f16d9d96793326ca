import { describe, expect, it } from 'vitest';
import { loadConfigFromString, validateConfigSources } from './index.js';

function problems(yaml: string): string[] {
  return validateConfigSources([{ file: 'waymark.yaml', text: yaml }]).problems.map(
    (p) => `${p.line}:${p.column} ${p.path}: ${p.message}`,
  );
}

describe('server.sources', () => {
  it('fills in the defaults of a NATS source and parses ack_wait', () => {
    const loaded = loadConfigFromString(`
server:
  sources:
    - type: nats
      stream: EVENTS
      subjects: ["events.>"]
`);
    expect(loaded.config.server.sources).toEqual([
      {
        type: 'nats',
        name: 'nats',
        url: 'nats://127.0.0.1:4222',
        stream: 'EVENTS',
        subjects: ['events.>'],
        durable: 'waymark',
        batch: 100,
        ack_wait: expect.objectContaining({ ms: 30_000 }),
        create_stream: true,
      },
    ]);
    expect(loadConfigFromString('journeys: []').config.server.sources).toEqual([]);
  });

  it('reports bad values where they are written', () => {
    expect(
      problems(`server:
  sources:
    - type: nats
      url: http://nats:4222
      stream: my.events
      subjects: ["events.>.all"]
      batch: 0
`),
    ).toEqual([
      '4:12 server.sources[0].url: expected a NATS URL such as nats://127.0.0.1:4222 (several: comma-separated)',
      "5:15 server.sources[0].stream: expected a stream name such as EVENTS (no spaces and none of . * > / \\); found 'my.events'",
      "6:18 server.sources[0].subjects[0]: expected a NATS subject such as events.> or events.*.created (dot-separated tokens, '*' for one token, '>' only last); found 'events.>.all'",
      '7:14 server.sources[0].batch: expected a number at least 1; found number 0',
    ]);
  });

  it('refuses two sources with one name, pointing at the second', () => {
    expect(
      problems(`server:
  sources:
    - { type: nats, stream: A, subjects: [a.>] }
    - { type: nats, stream: B, subjects: [b.>] }
`),
    ).toEqual([
      "4:7 server.sources[1].name: duplicate source name 'nats': sources[0] has it too; give each source its own name",
    ]);
  });
});
