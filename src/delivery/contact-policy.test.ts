import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import {
  calendarWindow,
  compileContactPolicy,
  decideContact,
  effectiveCap,
  type Contact,
  type ContactPolicy,
} from './contact-policy.js';

// The specification's customer-level limits, verbatim, plus fatigue.
const SPEC = `
rate_limits:
  customer:
    email:
      daily: 3
      weekly: 10
      monthly: 30
    sms:
      daily: 1
      weekly: 3
      monthly: 10
    in_app:
      daily: 5
      weekly: 20
    total:
      daily: 5
      weekly: 15
fatigue:
  cooldown_periods:
    after_unsubscribe: 30 days
    after_complaint: 90 days
    after_bounce: 7 days
  engagement_based:
    highly_engaged: { multiplier: 1.5 }
    moderately_engaged: { multiplier: 1.0 }
    low_engagement: { multiplier: 0.5 }
    disengaged: { suppress: true }
`;

/** The spec's policy; `rateLimitSettings` are extra lines under `rate_limits:`. */
function policy(rateLimitSettings = ''): ContactPolicy {
  const text = SPEC.replace('rate_limits:\n', `rate_limits:\n${rateLimitSettings}`);
  const { config } = loadConfigFromString(text, 'limits.yaml');
  const compiled = compileContactPolicy(config.rate_limits, config.fatigue);
  if (compiled === null) throw new Error('expected a policy');
  return compiled;
}

const at = (iso: string) => Date.parse(iso);
const emails = (...times: string[]): Contact[] =>
  times.map((t) => ({ channel: 'email', at: at(t) }));

describe('customer caps in the local calendar', () => {
  it('allows the third e-mail of a local day and defers the fourth to local midnight', () => {
    const p = policy();
    const zone = 'America/New_York';
    // 09:00, 11:00, 13:00 New York on 2026-03-02 (EST, UTC-5).
    const sent = emails('2026-03-02T14:00:00Z', '2026-03-02T16:00:00Z');
    const now = at('2026-03-02T18:00:00Z');
    expect(decideContact(p, { channel: 'email', priority: 'normal' }, sent, {}, now, zone)).toEqual(
      {
        kind: 'send',
        bypassed: false,
      },
    );
    const three = [...sent, { channel: 'email', at: now }];
    expect(
      decideContact(p, { channel: 'email', priority: 'normal' }, three, {}, now, zone),
    ).toEqual({
      kind: 'defer',
      until: at('2026-03-03T05:00:00Z'),
      reason: 'rate_limit',
      limit: 'email.daily',
    });
  });

  it('counts the same instants into different days for customers in different zones', () => {
    const p = policy();
    // Sent 01:00–03:00 on 2026-03-02 in Los Angeles (UTC-8), which is the evening of 03-02 in
    // Tokyo. At 23:30Z it is still 03-02 in Los Angeles (full) but already 03-03 in Tokyo (empty).
    const sent = emails('2026-03-02T09:00:00Z', '2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z');
    const now = at('2026-03-02T23:30:00Z');
    const msg = { channel: 'email', priority: 'normal' } as const;
    expect(decideContact(p, msg, sent, {}, now, 'Asia/Tokyo').kind).toBe('send');
    expect(decideContact(p, msg, sent, {}, now, 'America/Los_Angeles')).toMatchObject({
      kind: 'defer',
      until: at('2026-03-03T08:00:00Z'),
    });
  });

  it('a local day across the spring-forward change is 23 hours long', () => {
    const p = policy();
    const zone = 'Europe/Berlin';
    // 2026-03-29 is the change day in Berlin: local midnight to midnight is 23 h.
    const sent = emails('2026-03-29T06:00:00Z', '2026-03-29T07:00:00Z', '2026-03-29T08:00:00Z');
    const decision = decideContact(
      p,
      { channel: 'email', priority: 'normal' },
      sent,
      {},
      at('2026-03-29T09:00:00Z'),
      zone,
    );
    expect(decision).toMatchObject({ kind: 'defer', until: at('2026-03-29T22:00:00Z') });
  });

  it('the weekly cap defers to the next local Monday, past days with room', () => {
    const p = policy();
    // One SMS a day is allowed, three a week: Mon, Tue, Wed used; Thursday waits for Monday.
    const sms: Contact[] = ['2026-03-02', '2026-03-03', '2026-03-04'].map((d) => ({
      channel: 'sms',
      at: at(`${d}T12:00:00Z`),
    }));
    expect(
      decideContact(
        p,
        { channel: 'sms', priority: 'high' },
        sms,
        {},
        at('2026-03-05T12:00:00Z'),
        'UTC',
      ),
    ).toEqual({
      kind: 'defer',
      until: at('2026-03-09T00:00:00Z'),
      reason: 'rate_limit',
      limit: 'sms.weekly',
    });
  });

  it('the monthly cap moves a message to the first of the next month, including in a leap year', () => {
    const p = policy();
    const sms: Contact[] = Array.from({ length: 10 }, (_, i) => ({
      channel: 'sms',
      at: at(`2028-02-${String(i * 2 + 1).padStart(2, '0')}T12:00:00Z`),
    }));
    const decision = decideContact(
      p,
      { channel: 'sms', priority: 'normal' },
      sms,
      {},
      at('2028-02-29T12:00:00Z'),
      'UTC',
    );
    expect(decision).toMatchObject({
      kind: 'defer',
      until: at('2028-03-01T00:00:00Z'),
      limit: 'sms.monthly',
    });
  });

  it('the total cap counts every channel', () => {
    const p = policy();
    const mixed: Contact[] = [
      { channel: 'email', at: at('2026-03-02T08:00:00Z') },
      { channel: 'email', at: at('2026-03-02T09:00:00Z') },
      { channel: 'sms', at: at('2026-03-02T10:00:00Z') },
      { channel: 'in_app', at: at('2026-03-02T11:00:00Z') },
      { channel: 'in_app', at: at('2026-03-02T12:00:00Z') },
    ];
    expect(
      decideContact(
        p,
        { channel: 'in_app', priority: 'normal' },
        mixed,
        {},
        at('2026-03-02T13:00:00Z'),
        'UTC',
      ),
    ).toMatchObject({ kind: 'defer', limit: 'total.daily' });
  });

  it('a booked deferral counts in the window it goes out in', () => {
    const p = policy();
    const now = at('2026-03-02T12:00:00Z');
    const full = emails('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z', '2026-03-02T10:00:00Z');
    // Tomorrow already holds three deferred e-mails: the next one goes the day after.
    const booked = emails('2026-03-03T00:00:00Z', '2026-03-03T00:00:00Z', '2026-03-03T00:00:00Z');
    expect(
      decideContact(
        p,
        { channel: 'email', priority: 'normal' },
        [...full, ...booked],
        {},
        now,
        'UTC',
      ),
    ).toMatchObject({ kind: 'defer', until: at('2026-03-04T00:00:00Z') });
  });

  it('suppresses instead under when_capped: suppress, or past max_defer', () => {
    const sent = emails('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z', '2026-03-02T10:00:00Z');
    const now = at('2026-03-02T12:00:00Z');
    const suppress = policy('  when_capped: suppress\n');
    expect(
      decideContact(suppress, { channel: 'email', priority: 'normal' }, sent, {}, now, 'UTC'),
    ).toEqual({
      kind: 'suppress',
      reason: 'rate_limit',
      limit: 'email.daily',
      recommendation: null,
    });
    const short = policy('  max_defer: 1 hour\n');
    expect(
      decideContact(short, { channel: 'email', priority: 'normal' }, sent, {}, now, 'UTC').kind,
    ).toBe('suppress');
  });
});

describe('fatigue', () => {
  const now = at('2026-03-10T12:00:00Z');
  const full = emails('2026-03-10T08:00:00Z', '2026-03-10T09:00:00Z', '2026-03-10T10:00:00Z');

  it('a critical message bypasses caps and fatigue', () => {
    const p = policy();
    expect(
      decideContact(
        p,
        { channel: 'email', priority: 'critical' },
        full,
        { engagement_level: 'disengaged', fatigue: { last_complaint_at: '2026-03-09T00:00:00Z' } },
        now,
        'UTC',
      ),
    ).toEqual({ kind: 'send', bypassed: true });
  });

  it('a disengaged customer gets nothing but critical messages', () => {
    const p = policy();
    for (const priority of ['high', 'normal', 'low'] as const) {
      expect(
        decideContact(
          p,
          { channel: 'in_app', priority },
          [],
          { engagement_level: 'disengaged' },
          now,
          'UTC',
        ),
      ).toEqual({
        kind: 'suppress',
        reason: 'disengaged',
        limit: null,
        recommendation: 'Consider re-engagement campaign',
      });
    }
  });

  it('engagement scales the caps: 1.5× for the highly engaged, 0.5× for low engagement', () => {
    const p = policy();
    const msg = { channel: 'email', priority: 'normal' } as const;
    expect(
      decideContact(p, msg, full, { engagement_level: 'highly_engaged' }, now, 'UTC').kind,
    ).toBe('send');
    expect(
      decideContact(p, msg, full.slice(0, 1), { engagement_level: 'low_engagement' }, now, 'UTC'),
    ).toMatchObject({ kind: 'defer', limit: 'email.daily' });
    expect([
      effectiveCap(3, 1.5),
      effectiveCap(3, 0.5),
      effectiveCap(1, 0.5),
      effectiveCap(0, 2),
    ]).toEqual([4, 1, 1, 0]);
  });

  it('cooldowns after a bounce, complaint or unsubscribe hold the channel, per channel or for all', () => {
    const p = policy();
    const msg = { channel: 'email', priority: 'normal' } as const;
    expect(
      decideContact(
        p,
        msg,
        [],
        { fatigue: { email: { last_bounce_at: '2026-03-08T12:00:00Z' } } },
        now,
        'UTC',
      ),
    ).toEqual({
      kind: 'defer',
      until: at('2026-03-15T12:00:00Z'),
      reason: 'cooldown_after_bounce',
      limit: null,
    });
    // A bounce on SMS says nothing about e-mail.
    expect(
      decideContact(
        p,
        msg,
        [],
        { fatigue: { sms: { last_bounce_at: '2026-03-08T12:00:00Z' } } },
        now,
        'UTC',
      ).kind,
    ).toBe('send');
    // 90 days after a complaint is further than max_defer (7 days): suppressed.
    expect(
      decideContact(
        p,
        msg,
        [],
        { fatigue: { last_complaint_at: '2026-03-01T00:00:00Z' } },
        now,
        'UTC',
      ),
    ).toMatchObject({ kind: 'suppress', reason: 'cooldown_after_complaint' });
    expect(
      decideContact(
        p,
        msg,
        [],
        { fatigue: { last_unsubscribe_at: '2026-01-01T00:00:00Z' } },
        now,
        'UTC',
      ).kind,
    ).toBe('send');
  });

  it('no policy at all when nothing is configured', () => {
    const { config } = loadConfigFromString('channels: {}\n', 'empty.yaml');
    expect(compileContactPolicy(config.rate_limits, config.fatigue)).toBeNull();
  });
});

describe('calendarWindow', () => {
  it('matches luxon startOf for days, weeks and months in every kind of zone, across DST', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Berlin',
      'Asia/Tokyo',
      'Australia/Lord_Howe',
      'Pacific/Kiritimati',
      'Pacific/Pago_Pago',
      'Asia/Kathmandu',
      'America/Sao_Paulo',
      // DST changes at midnight: the local day starts after a gap.
      'America/Havana',
      'Asia/Beirut',
      'America/Santiago',
    ];
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse('2020-01-01T00:00:00Z'),
          max: Date.parse('2030-12-31T00:00:00Z'),
        }),
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'week' as const, 'month' as const),
        (at, zone, unit) => {
          const local = DateTime.fromMillis(at, { zone }).startOf(unit);
          // The end is the start of the next period (plus() alone keeps a gap day's 01:00).
          expect(calendarWindow(at, zone, unit)).toEqual({
            start: local.toMillis(),
            end: local
              .plus({ [`${unit}s`]: 1 })
              .startOf(unit)
              .toMillis(),
          });
        },
      ),
      { numRuns: 3000 },
    );
    // Havana springs forward at midnight on 2026-03-08: that local day starts at 01:00 (05:00Z).
    for (const at of [Date.parse('2026-03-08T12:00:00Z'), Date.parse('2026-11-01T12:00:00Z')]) {
      const local = DateTime.fromMillis(at, { zone: 'America/Havana' }).startOf('day');
      expect(calendarWindow(at, 'America/Havana', 'day')).toEqual({
        start: local.toMillis(),
        end: local.plus({ days: 1 }).startOf('day').toMillis(),
      });
    }
  });
});
