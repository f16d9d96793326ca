import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadConfigFromString } from './loader.js';

/** The warnings `waymark validate` prints for a journey file, as `path: message` up to the first clause. */
function warnings(yaml: string): string[] {
  return loadConfigFromString(yaml, 'journeys.yaml').warnings.map(
    (w) => `${w.path}: ${w.message.split(' but ')[0] ?? ''}`,
  );
}

const JOURNEY = (steps: string, more = '') => `
channels:
  in_app: { provider: internal }
templates:
  reminder: { channel: in_app, body: 'About {{ event.properties.order_id }}' }
  entry_reminder: { channel: in_app, body: 'About {{ journey.entry_event.properties.order_id }}' }
journeys:
  - id: orders
    entry: { event: order.placed }
    stages:
      - id: s
        steps:
${steps}
${more}
`;

describe('validate: steps that read event.… where a run has no event', () => {
  it('flags a read after a timed wait and after a timeout, not before the first wait or on an event path', () => {
    expect(
      warnings(
        JOURNEY(`
          - { id: thanks, type: send, channel: in_app, content: { body: 'Order {{ event.properties.order_id }}' } }
          - id: wait_for_shipping
            type: wait_for_event
            events: [{ event: order.shipped, next: shipped, conditions: { logic: AND, conditions: [{ field: event.properties.fast, operator: eq, value: true }] } }]
            timeout: 3 days
          - { id: late, type: send, channel: in_app, content: { body: 'Still waiting for {{ event.properties.order_id }}' } }
          - { id: pause, type: wait, duration: 1 day }
          - id: late_branch
            type: branch
            branches: [{ name: big, conditions: { logic: AND, conditions: [{ field: event.properties.total, operator: gt, value: 100 }] }, next: complete }]
          - { id: by_template, type: send, channel: in_app, template: reminder }
          - { id: by_entry, type: send, channel: in_app, template: entry_reminder }
          - { id: fine, type: send, channel: in_app, content: { body: 'Order {{ journey.entry_event.properties.order_id }}' } }
          - { id: done, type: goto, stage: complete }
      - id: shipped
        steps:
          - { id: shipped_note, type: send, channel: in_app, content: { body: 'Shipped by {{ event.properties.carrier }}' } }`),
      ),
    ).toEqual([
      "journeys[0].stages[0].steps[2]: step 'late' reads event.…",
      "journeys[0].stages[0].steps[4]: step 'late_branch' reads event.…",
      "journeys[0].stages[0].steps[5]: step 'by_template' reads event.…",
    ]);
  });

  it('follows goto, split and falling off a stage; a stage reached only on an event path is fine', () => {
    expect(
      warnings(
        JOURNEY(`
          - { id: pause, type: wait, duration: 1 day }
          - { id: jump, type: goto, stage: later }
      - id: on_event
        steps:
          - { id: note, type: send, channel: in_app, content: { body: '{{ event.type }}' } }
      - id: later
        steps:
          - id: ab
            type: split
            variants: [{ name: a, weight: 1, next: tail }, { name: b, weight: 1 }]
          - { id: b_note, type: send, channel: in_app, content: { body: 'b {{ event.type }}' } }
      - id: tail
        steps:
          - { id: tail_note, type: send, channel: in_app, content: { body: 'tail {{ event.type }}' } }`),
      ),
    ).toEqual([
      "journeys[0].stages[2].steps[1]: step 'b_note' reads event.…",
      "journeys[0].stages[3].steps[0]: step 'tail_note' reads event.…",
    ]);
  });

  it("reads before the first wait are fine; so are the example project's journeys", async () => {
    expect(
      warnings(
        JOURNEY(
          `          - { id: hi, type: send, channel: in_app, content: { body: 'hi {{ event.type }}' } }`,
        ),
      ),
    ).toEqual([]);
    const example = await loadConfig(
      fileURLToPath(new URL('../../examples/customer-success', import.meta.url)),
    );
    expect(example.warnings.filter((w) => w.message.includes('reads event.'))).toEqual([]);
  });
});
