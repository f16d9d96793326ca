import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { identifierSchema } from '../input.js';
import {
  customerPredictionsSchema,
  decisionJson,
  globalUpliftSchema,
  iso,
  journeyUpliftSchema,
  liftJson,
  modelListSchema,
  nextBestActionSchema,
} from '../representations.js';
import { defineRoute, type Route } from '../route.js';

/** Most interactions a request may report (the decision reads their channels). */
const MAX_INTERACTIONS = 1000;

/** The spec's `NBActionRequest`, plus optional per-request constraints that tighten the config's. */
const nbaRequestSchema = z.strictObject({
  customer_id: identifierSchema,
  context: z
    .strictObject({
      current_journey: identifierSchema.optional(),
      recent_interactions: z
        .array(
          z.looseObject({
            channel: identifierSchema.optional(),
            type: z.string().max(200).optional(),
            timestamp: z.string().max(64).optional(),
          }),
        )
        .max(MAX_INTERACTIONS)
        .default([]),
      available_actions: z.array(identifierSchema).max(1000).optional(),
    })
    .prefault({}),
  constraints: z
    .strictObject({
      max_daily_touches: z.number().int().nonnegative().optional(),
      channel_preferences: z.boolean().optional(),
      business_hours_only: z.boolean().optional(),
    })
    .prefault({}),
});

const customerParams = z.strictObject({ id: identifierSchema });
const journeyParams = z.strictObject({ id: identifierSchema });

/**
 * The decision engine over HTTP: next best action, a customer's live prediction scores, and the
 * model registry. Decisions are logged and show on the customer's timeline with their reasoning.
 */
export function decisionRoutes(ctx: ApiContext): Route[] {
  const engine = ctx.engine;
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/decisions/next-best-action',
      operationId: 'nextBestAction',
      summary: 'Recommend the next best action for a customer',
      description:
        "Ranks next_best_action.actions (or context.available_actions) by expected value = P(response) × value, where P(response) comes from the registered policy, else the customer's engagement on the action's channel, else the action's prior. Ineligible actions (conditions, consent, no address, the journey the customer is already in) are listed under excluded. Timing honours max_daily_touches, business hours and quiet hours. The decision is logged (kind next_best_action) with every action's propensity.",
      tag: 'decisions',
      body: nbaRequestSchema,
      responses: { 200: { description: 'The recommendation.', schema: nextBestActionSchema } },
      errors: {
        400: 'INVALID_INPUT; NBA_UNKNOWN_ACTION (details.known lists the catalogue); NBA_NO_ACTIONS',
        404: 'NOT_FOUND: no such customer',
      },
      async handle({ body }) {
        const interactions = body.context.recent_interactions;
        const answer = await engine.nextBestAction({
          customerId: body.customer_id,
          currentJourney: body.context.current_journey ?? null,
          interactionChannels: interactions
            .map((i) => i.channel)
            .filter((c): c is string => c !== undefined),
          interactionCount: interactions.length,
          availableActions: body.context.available_actions ?? null,
          constraints: {
            ...(body.constraints.max_daily_touches === undefined
              ? {}
              : { maxDailyTouches: body.constraints.max_daily_touches }),
            ...(body.constraints.channel_preferences === undefined
              ? {}
              : { channelPreferences: body.constraints.channel_preferences }),
            ...(body.constraints.business_hours_only === undefined
              ? {}
              : { businessHoursOnly: body.constraints.business_hours_only }),
          },
        });
        return { status: 200, body: answer };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/customers/:id/predictions',
      operationId: 'getCustomerPredictions',
      summary: "A customer's live prediction scores and past threshold crossings",
      tag: 'decisions',
      params: customerParams,
      responses: { 200: { description: 'Scores and history.', schema: customerPredictionsSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: no such customer' },
      async handle({ params }) {
        const scores = await engine.scoreCustomer(params.id);
        const history = await engine.store.listDecisions({
          customerId: params.id,
          kind: 'prediction',
          limit: 50,
        });
        return {
          status: 200,
          body: {
            customer_id: params.id,
            scores: scores.map((s) => ({
              prediction: s.prediction,
              model: s.model,
              probability: s.probability,
              score: s.score,
              threshold: s.threshold,
              above_threshold: s.aboveThreshold,
              factors: s.factors,
              notes: s.notes,
            })),
            history: history.map(decisionJson),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/journeys/:id/uplift',
      operationId: 'getJourneyUplift',
      summary: "A journey's conversion lift over its holdout, per goal",
      tag: 'decisions',
      params: journeyParams,
      responses: { 200: { description: 'The report.', schema: journeyUpliftSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: no such journey' },
      async handle({ params }) {
        const report = await engine.journeyUplift(params.id);
        return {
          status: 200,
          body: {
            journey_id: report.journeyId,
            holdout: report.holdout,
            global_holdout: report.globalHoldout,
            enrollments: report.enrollments,
            goals: report.goals.map((g) => ({
              goal: g.goal,
              window_ms: g.windowMs,
              pending: g.pending,
              lift: liftJson(g.lift),
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/uplift',
      operationId: 'getGlobalUplift',
      summary: 'The global holdout: conversion lift of the journeys over it',
      tag: 'decisions',
      responses: { 200: { description: 'The report.', schema: globalUpliftSchema } },
      errors: {},
      async handle() {
        const report = await engine.globalUplift();
        return {
          status: 200,
          body: {
            fraction: report.fraction,
            journeys: report.journeys.map((j) => ({
              journey_id: j.journeyId,
              pending: j.pending,
              lift: liftJson(j.lift),
            })),
            pooled: liftJson(report.pooled),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/models',
      operationId: 'listModels',
      summary: 'Registered models',
      description:
        'Every version of every model in the registry with its evaluation; `waymark models register` adds versions, and the engine scores with the newest.',
      tag: 'decisions',
      responses: { 200: { description: 'The registry.', schema: modelListSchema } },
      errors: {},
      async handle() {
        const models = await engine.store.listModels({});
        return {
          status: 200,
          body: {
            models: models.map((m) => ({
              name: m.name,
              version: m.version,
              kind: m.kind,
              registered_at: iso(m.createdAt),
              source: m.source,
              metrics: m.metrics,
            })),
          },
        };
      },
    }),
  ];
}
