import { describe, expect, it } from 'vitest';

import { randomFor } from '../decisions/index.js';
import {
  selectChannel,
  type ChannelCandidate,
  type EngagementSample,
  type SelectionContext,
} from './channel-selection.js';

const CHANNELS: ChannelCandidate[] = [
  { name: 'email', type: 'email', fallback: 'sms' },
  { name: 'sms', type: 'sms', fallback: 'in_app' },
  { name: 'in_app', type: 'in_app', fallback: null },
  { name: 'push', type: 'push', fallback: null },
];
const NOW = Date.parse('2026-06-16T18:00:00Z');
const DAY = 86_400_000;

function context(seed = 'test'): SelectionContext {
  return { now: NOW, zone: 'UTC', random: randomFor(seed), population: null };
}

describe('selectChannel (the specification order)', () => {
  it('1. follows an explicit preference, with its configured fallbacks', () => {
    expect(
      selectChannel({
        preference: 'email',
        urgency: 'high',
        candidates: CHANNELS,
        history: [],
        context: context(),
      }),
    ).toEqual({
      primary: 'email',
      fallback: ['sms', 'in_app'],
      reasoning: 'Customer preference',
      confidence: null,
      ranking: [],
    });
  });

  it('ignores a preference for a channel the customer cannot be reached on', () => {
    const reachable = CHANNELS.filter((c) => c.name !== 'push');
    expect(
      selectChannel({
        preference: 'push',
        urgency: null,
        candidates: reachable,
        history: [],
        context: context(),
      })?.reasoning,
    ).toMatch(/^AI confidence/u);
  });

  it('2. sends a high-urgency message by SMS, then e-mail, then in-app', () => {
    expect(
      selectChannel({
        preference: null,
        urgency: 'high',
        candidates: CHANNELS,
        history: [],
        context: context(),
      }),
    ).toEqual({
      primary: 'sms',
      fallback: ['email', 'in_app'],
      reasoning: 'High urgency message',
      confidence: null,
      ranking: [],
    });
  });

  it('3. otherwise the channel bandit: the channel the customer engages with wins, the ranking is the route', () => {
    // E-mail mostly ignored, push read every time.
    const history: EngagementSample[] = [
      ...Array.from({ length: 6 }, (_, i) => ({
        channel: 'email',
        at: NOW - (i + 2) * DAY,
        engaged: i === 0,
      })),
      ...Array.from({ length: 6 }, (_, i) => ({
        channel: 'push',
        at: NOW - (i + 2) * DAY,
        engaged: true,
      })),
    ];
    const decisions = Array.from({ length: 50 }, (_, i) =>
      selectChannel({
        preference: null,
        urgency: null,
        candidates: CHANNELS,
        history,
        context: context(String(i)),
      }),
    );
    const pushWins = decisions.filter((d) => d?.primary === 'push').length;
    expect(pushWins).toBeGreaterThan(40);
    const decision = decisions.find((d) => d?.primary === 'push');
    expect(decision?.confidence).toBeGreaterThan(0.8);
    expect(decision?.reasoning).toMatch(
      /^AI confidence: 0\.\d\d that push engages best \(expected \d+\.\d% from 6 of 6 messages/u,
    );
    expect([decision?.primary, ...(decision?.fallback ?? [])].sort()).toEqual([
      'email',
      'in_app',
      'push',
      'sms',
    ]);
    expect(decision?.ranking.map((r) => r.channel)).toEqual([
      decision?.primary,
      ...(decision?.fallback ?? []),
    ]);
    // E-mail, with 1 of 6, is expected to do worse than a channel never tried (the prior, 20%).
    const expected = (name: string) => decision?.ranking.find((r) => r.channel === name)?.expected;
    expect(expected('email')).toBeLessThan(expected('sms') ?? 0);
    expect(expected('sms')).toBeCloseTo(0.2, 9);
  });

  it('is reproducible under a seed', () => {
    const run = () =>
      selectChannel({
        preference: null,
        urgency: null,
        candidates: CHANNELS,
        history: [],
        context: context('same'),
      });
    expect(run()).toEqual(run());
  });

  it('has nothing to choose without candidates', () => {
    expect(
      selectChannel({
        preference: 'email',
        urgency: 'high',
        candidates: [],
        history: [],
        context: context(),
      }),
    ).toBeNull();
  });
});
