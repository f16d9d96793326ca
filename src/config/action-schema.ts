import { z } from 'zod';
import { retryReferenceSchema } from './retry-schema.js';
import {
  durationSchema,
  fieldPathSchema,
  identifierSchema,
  keySchema,
  nameSchema,
  strictObject,
  templatedJsonSchema,
  templatedRecordSchema,
  templateTextSchema,
} from './value-schemas.js';

/**
 * Actions: what a rule does when it fires (`{type, params, delay?, retry?}` from the
 * specification's `Action`), the named action lists under top-level `actions`, and the action
 * names a trigger or prediction refers to (`action: "enroll_risk_mitigation_journey"`).
 */

/** Message priorities, highest first. `critical` bypasses fatigue suppression. */
export const MESSAGE_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;

/** Severities of alerts raised by actions and journey steps. */
export const ALERT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'warning', 'info'] as const;

/** Message content given inline instead of a template. */
export const messageContentSchema = strictObject({
  subject: templateTextSchema.optional().meta({ description: 'Email subject.' }),
  title: templateTextSchema.optional().meta({ description: 'Push / in-app title.' }),
  body: templateTextSchema.meta({ description: 'Message body (plain text).' }),
  html: templateTextSchema.optional().meta({ description: 'Email HTML body.' }),
  url: templateTextSchema
    .optional()
    .meta({ description: 'Link opened by a push or in-app message.' }),
}).meta({ id: 'MessageContent' });

/** An http(s) URL; may contain placeholders. */
export const urlSchema = templateTextSchema.refine((text) => /^https?:\/\/\S+$/.test(text), {
  error: (issue) => `expected an http(s) URL; found '${String(issue.input)}'`,
});

function exactlyOneOf(
  value: Record<string, unknown>,
  keys: readonly string[],
  what: string,
  ctx: z.RefinementCtx,
): void {
  const present = keys.filter((k) => value[k] !== undefined);
  if (present.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${what} needs one of ${keys.map((k) => `'${k}'`).join(' or ')}`,
    });
  } else if (present.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [present[1] ?? ''],
      message: `${what} takes ${keys.map((k) => `'${k}'`).join(' or ')}, not both`,
    });
  }
}

/** Shared by checks in this file and the journey steps. */
export { exactlyOneOf };

/**
 * When a message goes (a journey send step, a `send_message` action): at once, or at the
 * customer's best moment in a window.
 */
export const sendTimeSchema = z
  .union([
    z.enum(['optimal', 'immediate']),
    strictObject({
      mode: z.enum(['optimal', 'immediate']),
      within: durationSchema().optional().meta({
        description: 'The window the optimal moment is chosen in, from now (default 24 hours).',
      }),
    }),
  ])
  .meta({
    description:
      "optimal: the send-time optimizer picks the moment within the window (default 24 hours) when this customer is most likely to engage, outside quiet hours (and inside business hours with business_hours: true); immediate (default): now. Shorthand 'optimal', or {mode: optimal, within: 48 hours}.",
  });

const sendParams = strictObject({
  channel: identifierSchema.meta({
    description: "A channels name, or auto for the spec's selectChannel.",
  }),
  template: keySchema.optional().meta({ description: 'A templates name.' }),
  content: messageContentSchema.optional(),
  priority: z.enum(MESSAGE_PRIORITIES).default('normal'),
  urgency: z.enum(['high', 'normal', 'low']).optional(),
  business_hours: z
    .boolean()
    .default(false)
    .meta({ description: "Hold the message to the customer's next business hours." }),
  send_time: sendTimeSchema.optional(),
}).superRefine((p, ctx) => {
  exactlyOneOf(p, ['template', 'content'], 'send_message', ctx);
});

const scheduleParams = strictObject({
  channel: identifierSchema
    .optional()
    .meta({ description: 'A channels name (default: chosen by the decision engine).' }),
  template: keySchema.optional(),
  content: messageContentSchema.optional(),
  priority: z.enum(MESSAGE_PRIORITIES).default('normal'),
  prediction: keySchema
    .optional()
    .meta({ description: 'A predictions name whose timestamp output picks the send time.' }),
}).superRefine((p, ctx) => {
  if (p.template !== undefined && p.content !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['content'],
      message: "schedule_message takes 'template' or 'content', not both",
    });
  }
});

const webhookParams = strictObject({
  webhook: nameSchema.optional().meta({ description: 'A webhooks name.' }),
  url: urlSchema.optional(),
  body: templatedJsonSchema.optional(),
}).superRefine((p, ctx) => {
  exactlyOneOf(p, ['webhook', 'url'], 'send_webhook', ctx);
});

const updateParams = strictObject({
  set: templatedRecordSchema.optional().meta({ description: 'Profile fields to set.' }),
  unset: z.array(fieldPathSchema).optional().meta({ description: 'Profile fields to remove.' }),
}).superRefine((p, ctx) => {
  if (p.set === undefined && p.unset === undefined) {
    ctx.addIssue({ code: 'custom', message: "update_customer needs 'set' or 'unset'" });
  }
});

/** Parameter schemas of every action type; the keys are the valid `type` values. */
const ACTION_PARAMS = {
  enroll_journey: strictObject({
    journey_id: identifierSchema.meta({ description: 'The journey to enroll the customer in.' }),
    stage: identifierSchema
      .optional()
      .meta({ description: 'Start at this stage instead of the first.' }),
  }),
  exit_journey: strictObject({
    journey_id: identifierSchema
      .optional()
      .meta({ description: 'The journey to leave (default: every active one).' }),
    reason: templateTextSchema.optional(),
  }),
  advance_stage: strictObject({
    stage: identifierSchema.meta({ description: 'The stage to move to.' }),
    journey_id: identifierSchema
      .optional()
      .meta({ description: 'Which journey (default: the one the rule runs in).' }),
  }),
  create_alert: strictObject({
    severity: z.enum(ALERT_SEVERITIES).default('medium'),
    title: templateTextSchema.optional(),
    message: templateTextSchema.optional(),
    assignee: templateTextSchema.optional(),
  }),
  create_task: strictObject({
    title: templateTextSchema
      .optional()
      .meta({ description: 'Default: the rule or trigger name.' }),
    description: templateTextSchema.optional(),
    assignee: templateTextSchema.optional(),
    due: durationSchema().optional(),
    priority: z.enum(MESSAGE_PRIORITIES).optional(),
  }),
  escalate_to_csm: strictObject({
    reason: templateTextSchema.optional(),
    assignee: templateTextSchema.optional().meta({ description: 'Default: {{customer.csm_id}}.' }),
    severity: z.enum(ALERT_SEVERITIES).optional(),
  }),
  send_message: sendParams,
  schedule_message: scheduleParams,
  update_customer: updateParams,
  send_webhook: webhookParams,
} as const;

/** Every action type, in documentation order. */
export const ACTION_TYPES = Object.keys(ACTION_PARAMS) as (keyof typeof ACTION_PARAMS)[];

/** One of {@link ACTION_TYPES}. */
export type ActionType = keyof typeof ACTION_PARAMS;

const actionCommon = {
  delay: durationSchema('non_negative')
    .optional()
    .meta({ description: 'Wait this long before running the action.' }),
  retry: retryReferenceSchema.optional(),
};

// Params are required where the type has a required parameter, else optional (default {}).
/** One action (the specification's `Action`), discriminated by `type`. */
export const actionSchema = z
  .discriminatedUnion('type', [
    strictObject({
      type: z.literal('enroll_journey'),
      params: ACTION_PARAMS.enroll_journey,
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('exit_journey'),
      params: ACTION_PARAMS.exit_journey.prefault({}),
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('advance_stage'),
      params: ACTION_PARAMS.advance_stage,
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('create_alert'),
      params: ACTION_PARAMS.create_alert.prefault({}),
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('create_task'),
      params: ACTION_PARAMS.create_task.prefault({}),
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('escalate_to_csm'),
      params: ACTION_PARAMS.escalate_to_csm.prefault({}),
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('send_message'),
      params: ACTION_PARAMS.send_message,
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('schedule_message'),
      params: ACTION_PARAMS.schedule_message.prefault({}),
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('update_customer'),
      params: ACTION_PARAMS.update_customer,
      ...actionCommon,
    }),
    strictObject({
      type: z.literal('send_webhook'),
      params: ACTION_PARAMS.send_webhook,
      ...actionCommon,
    }),
  ])
  .meta({ id: 'Action', description: 'Something a rule or trigger does.' });

/** A loaded action. */
export type Action = z.output<typeof actionSchema>;

/** Trigger/prediction action names that need no entry under `actions`. */
export const BUILTIN_ACTIONS = [
  'escalate_to_csm',
  'schedule_message',
  'create_alert',
  'create_task',
  'exit_journey',
] as const;

/** One of {@link BUILTIN_ACTIONS}. */
export type BuiltinAction = (typeof BUILTIN_ACTIONS)[number];

/**
 * A trigger's or prediction's `action:` name, resolved at load time:
 * - `named`: an entry of the top-level `actions` map (these win over the built-in forms);
 * - `enroll_journey`: `enroll_<journey>_journey` / `trigger_<journey>_journey`;
 * - `builtin`: one of {@link BUILTIN_ACTIONS}.
 */
export type ActionReference =
  | { kind: 'named'; text: string; name: string }
  | { kind: 'enroll_journey'; text: string; journey: string }
  | { kind: 'builtin'; text: string; action: BuiltinAction };

const ENROLL_FORM = /^(?:enroll|trigger)_(.+)_journey$/;

/**
 * Reads an action name syntactically. Whether a `named` action exists and which journey an
 * `enroll_..._journey` form means are settled by the reference check, which sees the whole config.
 */
export function parseActionReference(text: string): ActionReference {
  const builtin = BUILTIN_ACTIONS.find((name) => name === text);
  if (builtin !== undefined) return { kind: 'builtin', text, action: builtin };
  const enroll = ENROLL_FORM.exec(text);
  if (enroll?.[1] !== undefined) return { kind: 'enroll_journey', text, journey: enroll[1] };
  return { kind: 'named', text, name: text };
}

/** An action name as written in a trigger or prediction. */
export const actionReferenceSchema = keySchema
  .meta({
    description:
      'An actions name, enroll_<journey>_journey, trigger_<journey>_journey, or a built-in: ' +
      BUILTIN_ACTIONS.join(', '),
  })
  .transform(parseActionReference);

/** Top-level `actions`: named lists of actions that triggers and predictions refer to. */
export const namedActionsSchema = z
  .record(keySchema, z.array(actionSchema).min(1))
  .meta({ description: 'Named action lists, referred to by triggers and predictions.' });
