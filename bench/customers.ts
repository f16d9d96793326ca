/**
 * Benchmark customers: a seeded, realistic mix of SaaS customer profiles.
 *
 * Real CRM exports are not clean, so besides well-typed values every numeric field is sometimes
 * missing, `null`, a numeric string (`"85"`, as CSV imports produce), or an empty string. Values
 * that make a peer library throw (non-numeric strings like `"N/A"` in json-logic-engine) are left
 * out so the timing measures evaluation, not exception handling; docs/BENCHMARKS.md says so.
 */

/** A small, fast, seedable PRNG (mulberry32); the same seed gives the same customers everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A customer profile as the benchmark's engines receive it (peers get it as their data/facts). */
export type Customer = Record<string, unknown>;

export const PLANS = ['starter', 'growth', 'business', 'enterprise'] as const;
export const REGIONS = ['na', 'emea', 'apac', 'latam'] as const;
export const TYPES = ['trial', 'paid', 'partner', 'internal'] as const;
export const INDUSTRIES = ['saas', 'fintech', 'health', 'retail', 'media', 'education'] as const;
export const FEATURES = ['reports', 'api', 'sso', 'workflows', 'exports', 'ai_assist'] as const;
export const TAGS = ['vip', 'beta', 'at_risk', 'champion', 'reference', 'migrated'] as const;
export const JOURNEYS = ['onboarding', 'risk_mitigation', 'expansion', 'renewal'] as const;

/** The numeric fields, with their ranges; each may also be dirty (see `numericValue`). */
export const NUMERIC_FIELDS = {
  usage_percentage: [0, 120],
  health_score: [0, 100],
  contract_months_remaining: [0, 36],
  arr: [500, 250_000],
  days_since_login: [0, 90],
  seats: [1, 500],
  nps: [-100, 100],
  open_tickets: [0, 12],
} as const;

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function subset<T>(random: () => number, items: readonly T[], p: number): T[] {
  return items.filter(() => random() < p);
}

/**
 * A numeric field's value: 84% a number, then missing (5%), `null` (4%), a numeric string (5%)
 * or an empty string (2%). `undefined` means "leave the field out".
 */
function numericValue(random: () => number, min: number, max: number): unknown {
  const n = Math.round(min + random() * (max - min));
  const roll = random();
  if (roll < 0.84) return n;
  if (roll < 0.89) return undefined;
  if (roll < 0.93) return null;
  if (roll < 0.98) return String(n);
  return '';
}

/** `count` customers from `seed`. Each call builds fresh objects. */
export function generateCustomers(count: number, seed = 20260115): Customer[] {
  const random = seededRandom(seed);
  const customers: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const customer: Customer = { id: `cus_${String(i).padStart(6, '0')}` };
    for (const [field, [min, max]] of Object.entries(NUMERIC_FIELDS)) {
      const value = numericValue(random, min, max);
      if (value !== undefined) customer[field] = value;
    }
    customer['plan'] = pick(random, PLANS);
    customer['region'] = pick(random, REGIONS);
    if (random() < 0.95) customer['type'] = pick(random, TYPES);
    customer['industry'] = pick(random, INDUSTRIES);
    customer['features_used'] = subset(random, FEATURES, 0.45);
    if (random() < 0.9) customer['tags'] = subset(random, TAGS, 0.2);
    else if (random() < 0.5) customer['tags'] = null;
    if (random() < 0.8) customer['csm_id'] = `csm_${Math.floor(random() * 40)}`;
    customer['csm_engaged'] = random() < 0.3;
    if (random() < 0.35) customer['journey_active'] = pick(random, JOURNEYS);
    customer['profile_complete'] = random() < 0.7;
    if (random() < 0.75) {
      const day = 1 + Math.floor(random() * 28);
      customer['first_login'] =
        `2025-0${1 + Math.floor(random() * 9)}-${String(day).padStart(2, '0')}`;
    }
    customer['company'] = {
      size: Math.round(5 + random() * 5000),
      segment: pick(random, ['smb', 'mid_market', 'enterprise'] as const),
    };
    customer['timezone'] = pick(random, ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo']);
    customers.push(customer);
  }
  return customers;
}
