import { z } from 'zod';
import {
  ALERT_SEVERITIES,
  exactlyOneOf,
  MESSAGE_PRIORITIES,
  messageContentSchema,
  sendTimeSchema,
  urlSchema,
} from './action-schema.js';
import { conditionGroupSchema } from './conditions-schema.js';
import {
  durationSchema,
  eventNameSchema,
  fieldPathSchema,
  identifierSchema,
  instantSchema,
  keySchema,
  nameSchema,
  percentageSchema,
  strictObject,
  templatedJsonSchema,
  templatedRecordSchema,
  templateTextSchema,
  timeOfDaySchema,
} from './value-schemas.js';

/**
 * Journeys: the specification names them but gives no format, so this is Waymark's design.
 *
 * Glossary
 * - journey: stages a customer moves through after enrollment, with entry, exit and goals.
 * - stage: a named, ordered list of steps; a customer is in exactly one stage of a journey.
 * - step: one thing to do (send, wait, branch, ...). Steps run in order; `next` jumps elsewhere.
 * - target (`next`): a stage id of the same journey, `exit` (leave now) or `complete` (finish).
 */

/** Targets that are not stage ids. */
export const RESERVED_TARGETS = ['exit', 'complete'] as const;

/** Step types, in documentation order. */
export const STEP_TYPES = [
  'send',
  'wait',
  'wait_for_event',
  'branch',
  'split',
  'task',
  'alert',
  'webhook',
  'update_customer',
  'goto',
  'exit',
] as const;

const targetSchema = keySchema.meta({
  description: "A stage id of the same journey, 'exit' or 'complete'.",
});

const jump = strictObject({ next: targetSchema.optional() });

const common = {
  id: keySchema
    .optional()
    .meta({ description: 'Unique within the journey; default <stage>.<index>.' }),
  name: nameSchema.optional(),
};

const sendStep = strictObject({
  type: z.literal('send'),
  ...common,
  channel: identifierSchema.meta({ description: 'A channels name.' }),
  template: keySchema.optional().meta({ description: 'A templates name.' }),
  content: messageContentSchema.optional(),
  priority: z.enum(MESSAGE_PRIORITIES).default('normal'),
  urgency: z.enum(['high', 'normal', 'low']).optional().meta({
    description: "With channel: auto, high urgency sends by SMS first (the spec's selectChannel).",
  }),
  business_hours: z.boolean().default(false).meta({
    description:
      "Hold the message to the customer's next business hours (defaults.business_hours), e.g. a call-me request sent at night.",
  }),
  send_time: sendTimeSchema.optional(),
}).superRefine((step, ctx) => {
  exactlyOneOf(step, ['template', 'content'], 'a send step', ctx);
});

const waitStep = strictObject({
  type: z.literal('wait'),
  ...common,
  duration: durationSchema().optional().meta({ description: 'Wait this long.' }),
  until_field: fieldPathSchema
    .optional()
    .meta({ description: 'Wait until the date in this field.' }),
  offset: durationSchema('any')
    .optional()
    .meta({ description: 'Shift until_field (-30 days: 30 days before).' }),
  at: timeOfDaySchema
    .optional()
    .meta({ description: "Then continue at this local time (customer's zone)." }),
  until: instantSchema.optional().meta({ description: 'Wait until this instant.' }),
}).superRefine((step, ctx) => {
  exactlyOneOf(step, ['duration', 'until_field', 'until'], 'a wait step', ctx);
  if (step.offset !== undefined && step.until_field === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['offset'],
      message: "'offset' only applies with 'until_field'",
    });
  }
  if (step.at !== undefined && step.until !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['at'],
      message: "'at' does not apply with 'until' (an exact instant)",
    });
  }
});

const waitForEventStep = strictObject({
  type: z.literal('wait_for_event'),
  ...common,
  events: z
    .array(
      strictObject({
        event: eventNameSchema,
        conditions: conditionGroupSchema.optional(),
        next: targetSchema.optional(),
      }),
    )
    .min(1),
  timeout: durationSchema().optional().meta({
    description: 'Give up waiting after this long (omitted: wait until an event or exit).',
  }),
  on_timeout: jump.optional(),
}).superRefine((step, ctx) => {
  if (step.on_timeout !== undefined && step.timeout === undefined) {
    ctx.addIssue({ code: 'custom', path: ['on_timeout'], message: "'on_timeout' needs 'timeout'" });
  }
});

const branchStep = strictObject({
  type: z.literal('branch'),
  ...common,
  branches: z
    .array(
      strictObject({
        name: keySchema,
        conditions: conditionGroupSchema,
        next: targetSchema.optional(),
      }),
    )
    .min(1),
  default: jump.optional().meta({ description: 'When no branch matches (omitted: continue).' }),
});

const splitStep = strictObject({
  type: z.literal('split'),
  ...common,
  holdout: percentageSchema.optional(),
  variants: z
    .array(
      strictObject({
        name: keySchema,
        weight: z.number().positive().meta({ description: 'Relative weight.' }),
        next: targetSchema.optional(),
      }),
    )
    .min(1),
});

const taskStep = strictObject({
  type: z.literal('task'),
  ...common,
  title: templateTextSchema,
  description: templateTextSchema.optional(),
  assignee: templateTextSchema.optional(),
  due: durationSchema().optional(),
  priority: z.enum(MESSAGE_PRIORITIES).optional(),
});

const alertStep = strictObject({
  type: z.literal('alert'),
  ...common,
  severity: z.enum(ALERT_SEVERITIES),
  message: templateTextSchema,
  assignee: templateTextSchema.optional(),
});

const webhookStep = strictObject({
  type: z.literal('webhook'),
  ...common,
  url: urlSchema.optional(),
  webhook: nameSchema.optional().meta({ description: 'A webhooks name.' }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  headers: z.record(z.string(), templateTextSchema).optional(),
  body: templatedJsonSchema.optional(),
}).superRefine((step, ctx) => {
  exactlyOneOf(step, ['url', 'webhook'], 'a webhook step', ctx);
});

const updateCustomerStep = strictObject({
  type: z.literal('update_customer'),
  ...common,
  set: templatedRecordSchema.optional(),
  unset: z.array(fieldPathSchema).optional(),
}).superRefine((step, ctx) => {
  if (step.set === undefined && step.unset === undefined) {
    ctx.addIssue({ code: 'custom', message: "an update_customer step needs 'set' or 'unset'" });
  }
});

const gotoStep = strictObject({
  type: z.literal('goto'),
  ...common,
  stage: identifierSchema.meta({ description: 'A stage id of the same journey.' }),
});

const exitStep = strictObject({
  type: z.literal('exit'),
  ...common,
  reason: templateTextSchema.optional(),
});

/** One journey step, discriminated by `type`. */
export const stepSchema = z
  .discriminatedUnion('type', [
    sendStep,
    waitStep,
    waitForEventStep,
    branchStep,
    splitStep,
    taskStep,
    alertStep,
    webhookStep,
    updateCustomerStep,
    gotoStep,
    exitStep,
  ])
  .meta({ id: 'Step' });

const stageSchema = strictObject({
  id: identifierSchema,
  name: nameSchema.optional(),
  steps: z.array(stepSchema).min(1),
});

const entrySchema = strictObject({
  event: eventNameSchema.optional().meta({ description: 'This event enrolls the customer.' }),
  conditions: conditionGroupSchema.optional(),
  re_entry: z
    .enum(['never', 'always', 'cooldown'])
    .default('never')
    .meta({ description: 'May a customer enroll again after leaving? (default never)' }),
  cooldown: durationSchema()
    .optional()
    .meta({ description: 'With re_entry: cooldown, how long after leaving.' }),
}).superRefine((entry, ctx) => {
  if (entry.re_entry === 'cooldown' && entry.cooldown === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['cooldown'],
      message: "re_entry: cooldown needs 'cooldown', a duration such as 30 days",
    });
  }
  if (entry.re_entry !== 'cooldown' && entry.cooldown !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['cooldown'],
      message: `'cooldown' only applies with re_entry: cooldown (re_entry is ${entry.re_entry})`,
    });
  }
});

const exitCriteriaSchema = strictObject({
  conditions: conditionGroupSchema.optional(),
  events: z.array(eventNameSchema).min(1).optional(),
}).superRefine((exit, ctx) => {
  if (exit.conditions === undefined && exit.events === undefined) {
    ctx.addIssue({ code: 'custom', message: "exit criteria need 'conditions' or 'events'" });
  }
});

const goalSchema = strictObject({
  name: keySchema,
  event: eventNameSchema.optional(),
  conditions: conditionGroupSchema.optional(),
  window: durationSchema().optional().meta({ description: 'Conversion window from enrollment.' }),
  exit: z
    .boolean()
    .default(false)
    .meta({ description: 'Leave the journey when reached (default false).' }),
}).superRefine((goal, ctx) => {
  if (goal.event === undefined && goal.conditions === undefined) {
    ctx.addIssue({ code: 'custom', message: `goal '${goal.name}' needs 'event' or 'conditions'` });
  }
});

/** A journey. Step ids left out are filled in as `<stage id>.<index>`. */
export const journeySchema = strictObject({
  id: identifierSchema,
  name: nameSchema.optional(),
  description: z.string().optional(),
  entry: entrySchema.optional(),
  exit: exitCriteriaSchema.optional(),
  goals: z.array(goalSchema).optional(),
  holdout: percentageSchema
    .optional()
    .meta({ description: 'Share of enrollments held out as a control group.' }),
  global_holdout: z.boolean().optional().meta({
    description:
      'false: the global holdout (defaults.global_holdout) does not apply (transactional journeys).',
  }),
  stages: z.array(stageSchema).min(1),
})
  .transform((journey) => ({
    ...journey,
    stages: journey.stages.map((stage) => ({
      ...stage,
      steps: stage.steps.map((step, index) => ({ ...step, id: step.id ?? `${stage.id}.${index}` })),
    })),
  }))
  .meta({ id: 'Journey' });

/** A loaded journey. */
export type JourneyDefinition = z.output<typeof journeySchema>;
/** A loaded stage. */
export type Stage = JourneyDefinition['stages'][number];
/** A loaded step (every step has an `id`). */
export type Step = Stage['steps'][number];
/** One of {@link STEP_TYPES}. */
export type StepType = Step['type'];
