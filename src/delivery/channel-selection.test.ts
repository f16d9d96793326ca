import { describe, expect, it } from 'vitest';

import { selectChannel, type ChannelCandidate } from './channel-selection.js';

const CHANNELS: ChannelCandidate[] = [
  { name: 'email', type: 'email', fallback: 'sms' },
  { name: 'sms', type: 'sms', fallback: 'in_app' },
  { name: 'in_app', type: 'in_app', fallback: null },
  { name: 'push', type: 'push', fallback: null },
];

describe('selectChannel (the specification order)', () => {
  it('1. follows an explicit preference, with its configured fallbacks', () => {
    expect(
      selectChannel({ preference: 'email', urgency: 'high', candidates: CHANNELS, history: [] }),
    ).toEqual({
      primary: 'email',
      fallback: ['sms', 'in_app'],
      reasoning: 'Customer preference',
      confidence: null,
    });
  });

  it('ignores a preference for a channel the customer cannot be reached on', () => {
    const reachable = CHANNELS.filter((c) => c.name !== 'push');
    expect(
      selectChannel({ preference: 'push', urgency: null, candidates: reachable, history: [] })
        ?.reasoning,
    ).toMatch(/^AI confidence/u);
  });

  it('2. sends a high-urgency message by SMS, then e-mail, then in-app', () => {
    expect(
      selectChannel({ preference: null, urgency: 'high', candidates: CHANNELS, history: [] }),
    ).toEqual({
      primary: 'sms',
      fallback: ['email', 'in_app'],
      reasoning: 'High urgency message',
      confidence: null,
    });
  });

  it('3. otherwise ranks by engagement rate with a uniform prior, ties in config order', () => {
    const history = [
      { channel: 'email', engaged: false },
      { channel: 'email', engaged: false },
      { channel: 'email', engaged: true },
      { channel: 'push', engaged: true },
      { channel: 'push', engaged: true },
    ];
    const decision = selectChannel({
      preference: null,
      urgency: null,
      candidates: CHANNELS,
      history,
    });
    // push 3/4, sms and in_app 1/2 (never tried), email 2/5.
    expect(decision).toEqual({
      primary: 'push',
      fallback: ['sms', 'in_app', 'email'],
      reasoning: 'AI confidence: 0.75 (engagement rate on push: 2 of 2 messages in the last month)',
      confidence: 0.75,
    });
    expect(
      selectChannel({ preference: null, urgency: null, candidates: CHANNELS, history: [] })
        ?.primary,
    ).toBe('email');
  });

  it('has nothing to choose without candidates', () => {
    expect(
      selectChannel({ preference: 'email', urgency: 'high', candidates: [], history: [] }),
    ).toBeNull();
  });
});
