/**
 * The engine's content personalizer: choices follow the current shares (the remembered choice
 * only explains the last one), and a clear winner reaches every customer.
 */
import { describe, expect, it } from 'vitest';

import { EngagementLearning } from '../decisions/index.js';
import { TemplatePersonalizer } from './content-personalizer.js';

const T0 = Date.UTC(2026, 2, 2, 12);
const TEMPLATE = {
  body: 'Hello',
  selection: 'bandit' as const,
  variants: [
    { name: 'short', body: 'Hi' },
    { name: 'long', body: 'Hello there' },
  ],
};

describe('TemplatePersonalizer', () => {
  it('moves customers it chose for recently once a clear winner emerges', () => {
    const learning = new EngagementLearning();
    const personalizer = new TemplatePersonalizer('welcome', TEMPLATE, learning);
    const points = Array.from({ length: 200 }, (_, i) => i * 7_919);
    const before = points.map((p) => personalizer.choose(p));
    // With nothing learned, equal weights split the customers.
    expect(before.filter((v) => v === 'short').length).toBeGreaterThan(40);
    expect(before.filter((v) => v === 'long').length).toBeGreaterThan(40);

    // 'long' engages half the time, 'short' never: P(long is best) ≈ 1 after 400 sends.
    for (let i = 0; i < 400; i++) {
      const variant = i % 2 === 0 ? 'long' : 'short';
      const send = { messageId: `m${i}`, channel: 'email', at: T0, zone: 'UTC' };
      learning.recordSend({ ...send, template: 'welcome', variant }, T0);
      if (variant === 'long' && i % 4 === 0) {
        learning.recordEngagement(
          { messageId: `m${i}`, channel: 'email', sentAt: T0, zone: 'UTC' },
          T0,
        );
      }
    }
    const after = points.map((p) => personalizer.choose(p));
    expect(after.every((v) => v === 'long')).toBe(true);
    expect(personalizer.explain(points[0] ?? 0)).toMatchObject({
      variant: 'long',
      basis: 'winner',
    });
  });
});
