/**
 * The next-best-action service behind `POST /v1/decisions/next-best-action`: gathers what the
 * decision needs (profile, active journeys, the last 30 days of messages, the registered policy's
 * probabilities), lets the pure `decideNextBestAction` rank the catalogue, logs the decision with
 * every action's propensity (kind `next_best_action`, on the customer's timeline), and answers
 * in the spec's `NBActionResponse` shape.
 */
import { compileConditions, type CompiledConditions } from '../conditions/index.js';
import type { NextBestActionConfig } from '../config/index.js';
import {
  InvalidInputError,
  NotFoundError,
  type Clock,
  type IdSource,
  type JsonObject,
  type Store,
} from '../core/index.js';
import {
  actionProbabilities,
  decideNextBestAction,
  ENGAGEMENT_WINDOW_MS,
  type NbaCandidate,
  type NbaConstraints,
  type NbaContact,
  type NbaModelFile,
} from '../decisions/index.js';
import { hasOptedOut, needsAddress, recipientsOf } from '../delivery/index.js';
import { toJsonValue } from '../journeys/index.js';
import { customerZone } from '../scheduling/index.js';
import type { RuntimeProject } from './project.js';

/** A request, as the API validated it (the spec's `NBActionRequest`). */
export interface NextBestActionRequest {
  readonly customerId: string;
  readonly currentJourney: string | null;
  /** Channels the customer recently interacted through (`recent_interactions[].channel`). */
  readonly interactionChannels: readonly string[];
  readonly interactionCount: number;
  /** Names from the catalogue; null = every catalogue action. */
  readonly availableActions: readonly string[] | null;
  /** Tightens the configured constraints for this request. */
  readonly constraints: Partial<NbaConstraints>;
}

/** A registered policy with its registry version. */
export interface NbaPolicy {
  readonly name: string;
  readonly version: number;
  readonly file: NbaModelFile;
}

/** What the service reads. */
export interface NextBestActionDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly project: RuntimeProject;
  readonly config: NextBestActionConfig;
  readonly policy: NbaPolicy | null;
}

/** Active enrollments read for `journey_active` (a customer is in a handful at most). */
const ACTIVE_ENROLLMENTS_READ = 500;

/** Answers one request and logs it. */
export async function recommendNextBestAction(
  deps: NextBestActionDeps,
  request: NextBestActionRequest,
): Promise<JsonObject> {
  const catalogue = deps.config.actions;
  const names = request.availableActions ?? Object.keys(catalogue);
  const unknown = names.filter((name) => catalogue[name] === undefined);
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown action${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; next_best_action.actions has ${Object.keys(catalogue).join(', ') || 'none'}`,
      { unknown, known: Object.keys(catalogue) },
      'NBA_UNKNOWN_ACTION',
    );
  }
  if (names.length === 0) {
    throw new InvalidInputError(
      'no actions to choose from: configure next_best_action.actions or pass context.available_actions',
      {},
      'NBA_NO_ACTIONS',
    );
  }
  const customer = await deps.store.getCustomer(request.customerId);
  if (customer === null) throw new NotFoundError('customer', request.customerId);
  const now = deps.clock.now();
  const attributes = customer.attributes;
  const active = (
    await deps.store.listEnrollments({
      customerId: customer.id,
      status: 'active',
      limit: ACTIVE_ENROLLMENTS_READ,
    })
  ).items.map((e) => e.journeyId);
  const view = { customer: { ...attributes, id: customer.id, journey_active: active } };
  const policy = deps.policy;
  const modelProbabilities =
    policy === null ? null : actionProbabilities(policy.file, attributes, now);

  const candidates: NbaCandidate[] = names.map((name) => {
    const action = catalogue[name];
    if (action === undefined) throw new Error(`unreachable: ${name}`);
    const modelAction = action.model_action ?? name;
    const p = modelProbabilities?.probabilities[modelAction];
    return {
      action: name,
      channel: action.channel ?? null,
      value: action.value,
      prior: action.prior,
      params: action.params as JsonObject,
      ineligible: ineligibility(action, view, attributes, deps.project, request),
      model:
        p === undefined || policy === null
          ? null
          : { probability: p, name: `${policy.name}@${policy.version}` },
    };
  });
  const configured = deps.config.constraints;
  const constraints: NbaConstraints = {
    maxDailyTouches: tighter(
      configured.max_daily_touches ?? null,
      request.constraints.maxDailyTouches,
    ),
    channelPreferences: request.constraints.channelPreferences ?? configured.channel_preferences,
    businessHoursOnly:
      (request.constraints.businessHoursOnly ?? false) || configured.business_hours_only,
  };
  const zone = customerZone(attributes, deps.project.defaultZone);
  const decision = decideNextBestAction({
    now,
    zone,
    candidates,
    contacts: await recentContacts(deps.store, customer.id, now),
    interactionChannels: request.interactionChannels,
    preferredChannel:
      typeof attributes['channel_preference'] === 'string'
        ? attributes['channel_preference']
        : null,
    constraints,
    businessHours: deps.project.businessHours,
    quietHours: deps.project.quietHours,
  });

  const decisionId = deps.ids.next('dec');
  const iso = (t: number): string => new Date(t).toISOString();
  const recommended = decision.recommended;
  await deps.store.appendDecisions([
    {
      id: decisionId,
      customerId: customer.id,
      kind: 'next_best_action',
      at: now,
      subject: recommended?.action ?? null,
      explanation: toJsonValue({
        reasoning: decision.reasoning,
        chosen: recommended?.action ?? null,
        propensities: decision.ranked.map((r) => ({
          action: r.action,
          probability: r.probability,
          value: r.value,
          expected_value: r.expectedValue,
          source: r.source,
        })),
        excluded: decision.excluded,
        touches_today: decision.touchesToday,
        constraints: {
          max_daily_touches: constraints.maxDailyTouches,
          channel_preferences: constraints.channelPreferences,
          business_hours_only: constraints.businessHoursOnly,
        },
        model: policy === null ? null : `${policy.name}@${policy.version}`,
        model_notes: modelProbabilities?.notes ?? [],
        current_journey: request.currentJourney,
        recent_interactions: request.interactionCount,
        optimal_time: iso(decision.timing.optimalTime),
      }) as JsonObject,
    },
  ]);

  return toJsonValue({
    decision_id: decisionId,
    customer_id: customer.id,
    recommended_action: {
      action_type: recommended?.action ?? 'none',
      action_params: recommended?.params ?? {},
      confidence: recommended?.probability ?? 0,
      reasoning: decision.reasoning,
      expected_value: recommended?.expectedValue ?? 0,
      channel: recommended?.channel ?? null,
    },
    alternatives: decision.ranked.slice(1).map((r) => ({
      action_type: r.action,
      confidence: r.probability,
      expected_value: r.expectedValue,
      reasoning: r.source,
    })),
    excluded: decision.excluded,
    timing: {
      optimal_time: iso(decision.timing.optimalTime),
      time_window: { start: iso(decision.timing.windowStart), end: iso(decision.timing.windowEnd) },
      timezone: zone,
    },
  }) as JsonObject;
}

/** Why the customer may not get `action` now, or null. */
function ineligibility(
  action: NextBestActionConfig['actions'][string],
  view: Record<string, unknown>,
  attributes: Readonly<Record<string, unknown>>,
  project: RuntimeProject,
  request: NextBestActionRequest,
): string | null {
  const journey = action.params['journey_id'];
  if (typeof journey === 'string' && journey === request.currentJourney) {
    return `already in ${journey}`;
  }
  const conditions = compiledConditions(action);
  if (conditions !== null && !conditions(view)) return 'conditions not met';
  if (action.channel === undefined) return null;
  const channel = project.channels.get(action.channel);
  if (channel === undefined) return `channel ${action.channel} is not configured`;
  if (!channel.enabled) return `channel ${action.channel} is disabled`;
  if (channel.optOutCheck && hasOptedOut(attributes, channel.name, channel.type)) {
    return `opted out of ${action.channel}`;
  }
  if (
    needsAddress(channel.type) &&
    (channel.recipientField === null ||
      recipientsOf(attributes, channel.recipientField).length === 0)
  ) {
    return `no ${action.channel} address`;
  }
  return null;
}

/** Conditions compiled once per catalogue action object (the config is immutable). */
const compiled = new WeakMap<object, CompiledConditions | null>();
function compiledConditions(
  action: NextBestActionConfig['actions'][string],
): CompiledConditions | null {
  // Keyed by the action object: a recompiled config brings new objects, and old ones are collected.
  if (!compiled.has(action)) {
    compiled.set(
      action,
      action.conditions === undefined
        ? null
        : compileConditions(
            { logic: action.logic, conditions: action.conditions },
            { defaultRoot: 'customer' },
          ),
    );
  }
  return compiled.get(action) ?? null;
}

/** The customer's contacts of the engagement window (the store's ledger, read by its index). */
async function recentContacts(
  store: Store,
  customerId: string,
  now: number,
): Promise<NbaContact[]> {
  const ledger = await store.listContacts(customerId, now - ENGAGEMENT_WINDOW_MS + 1);
  // Messages booked for later (held to an optimal time, say) are not touches yet.
  return ledger
    .filter((c) => c.at <= now)
    .map((c) => ({ channel: c.channel, at: c.at, engaged: c.engaged }));
}

/** The lower of a configured limit and a requested one (a request only tightens). */
function tighter(configured: number | null, requested: number | null | undefined): number | null {
  if (requested === undefined || requested === null) return configured;
  return configured === null ? requested : Math.min(configured, requested);
}
