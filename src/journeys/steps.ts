/**
 * What each step type does. Every executor starts the step (`run.visit`), emits its effects, and
 * tells the loop where to go. Steps that finish at once emit `step.completed`; waits emit it when
 * they end (see advance.ts).
 */
import { DateTime } from 'luxon';
import { assertNever } from '../core/index.js';
import type {
  CompiledAlertStep,
  CompiledSendStep,
  CompiledSplitStep,
  CompiledStep,
  CompiledTaskStep,
  CompiledUpdateCustomerStep,
  CompiledWaitForEventStep,
  CompiledWaitStep,
  CompiledWebhookStep,
} from './compile.js';
import type { CompiledText } from './content.js';
import { unitInterval } from './hashing.js';
import type { Run, StepOutcome } from './machine.js';
import {
  addDuration,
  addToInstant,
  atTimeOfDay,
  readAnchor,
  type AnchorProblem,
} from '../scheduling/index.js';

/** The variant name recorded for a split's holdout. */
export const SPLIT_HOLDOUT = 'holdout';

/** Runs one step of any type. */
export function executeStep(run: Run, step: CompiledStep): StepOutcome {
  switch (step.type) {
    case 'send':
      return send(run, step);
    case 'wait':
      return wait(run, step);
    case 'wait_for_event':
      return waitForEvent(run, step);
    case 'branch': {
      const visit = run.visit(step);
      const context = run.context();
      const arm = step.arms.find((candidate) => candidate.when(context));
      run.completeStep(step, visit, { branch: arm?.name ?? 'default' });
      return { kind: 'target', target: arm?.target ?? step.defaultTarget };
    }
    case 'split':
      return split(run, step);
    case 'task':
      return task(run, step);
    case 'alert':
      return alert(run, step);
    case 'webhook':
      return webhook(run, step);
    case 'update_customer':
      return updateCustomer(run, step);
    case 'goto': {
      const visit = run.visit(step);
      run.completeStep(step, visit);
      return { kind: 'target', target: step.target };
    }
    case 'exit': {
      const visit = run.visit(step);
      run.completeStep(step, visit);
      run.end('exited', step.reason, { from_step: step.id });
      return { kind: 'ended' };
    }
    default:
      return assertNever(step, 'step type');
  }
}

function send(run: Run, step: CompiledSendStep): StepOutcome {
  const visit = run.visit(step);
  const key = run.idempotencyKey(step, visit);
  const choice = pickContent(run, step);
  const rendered = choice?.render(run.context()) ?? { value: {}, missing: [] };
  const messageId = run.ctx.ids.next('msg');
  run.emit({
    type: 'send_message',
    message: {
      id: messageId,
      customerId: run.customerId,
      journeyId: run.journey.id,
      enrollmentId: run.enrollment.id,
      stepId: step.id,
      channel: step.channel,
      priority: step.priority,
      status: 'queued',
      content: rendered.value,
      idempotencyKey: key,
      createdAt: run.now,
      sentAt: null,
      updatedAt: run.now,
      error: null,
    },
    template: step.template,
    variant: choice?.variant ?? null,
    urgency: step.urgency,
    businessHours: step.businessHours,
    missing: rendered.missing,
  });
  run.completeStep(step, visit, {
    channel: step.channel,
    message_id: messageId,
    template: step.template,
    variant: choice?.variant ?? null,
  });
  return { kind: 'next' };
}

/**
 * Template variants are chosen like split variants: by weight, stable per enrollment and step. A
 * template the personalizer chooses for (`selection: bandit`) is keyed by customer and template
 * instead, the point a rule's `send_message` uses too, so a customer who re-enters the journey or
 * gets the template from a rule sees the same variant.
 */
function pickContent(
  run: Run,
  step: CompiledSendStep,
): CompiledSendStep['contents'][number] | undefined {
  if (step.contents.length <= 1) return step.contents[0];
  const personalizer = step.contents[0]?.personalizer;
  const point =
    personalizer === undefined
      ? unitInterval(run.ctx.seed, run.enrollment.id, step.id, 'template')
      : contentPoint(run.ctx.seed, run.customerId, personalizer.template);
  return chooseContent(step.contents, point);
}

/**
 * The point a customer's variant of a template is chosen at: a hash of the installation seed, the
 * customer and the template (what rule actions have always used).
 */
export function contentPoint(seed: string, customerId: string, template: string): number {
  return unitInterval(seed, customerId, template, 'template');
}

/**
 * The content alternative a point in [0, 1) falls on, by weight. Callers hash something stable
 * (the enrollment and step, or the customer and template) into the point, so a choice repeats.
 */
export function chooseContent(
  contents: CompiledSendStep['contents'],
  point: number,
): CompiledSendStep['contents'][number] | undefined {
  // A personalized template: the bandit decides, the weights only when it has no answer.
  const personalized = contents[0]?.personalizer?.choose(point);
  if (personalized != null) {
    const found = contents.find((c) => c.variant === personalized);
    if (found !== undefined) return found;
  }
  let left = point * contents.reduce((sum, c) => sum + c.weight, 0);
  for (const content of contents) {
    if (left < content.weight) return content;
    left -= content.weight;
  }
  return contents[contents.length - 1];
}

/** When a wait ends, or why it cannot be computed. */
export type WaitTarget =
  | { readonly due: number }
  | { readonly problem: AnchorProblem | 'invalid_instant'; readonly field?: string };

/** Computes the end of a `wait` step begun at `start`, in the customer's zone. */
export function waitTarget(run: Run, step: CompiledWaitStep, start: number): WaitTarget {
  const zone = run.zone;
  let moment: DateTime;
  switch (step.mode.kind) {
    case 'duration':
      moment = addDuration(DateTime.fromMillis(start, { zone }), step.mode.duration);
      break;
    case 'until':
      if (step.mode.instant === null) return { problem: 'invalid_instant' };
      moment = DateTime.fromMillis(step.mode.instant, { zone });
      break;
    case 'field': {
      const anchor = readAnchor(readField(run.attributes, step.mode.field), zone);
      if (typeof anchor === 'string') return { problem: anchor, field: step.mode.field };
      moment = step.mode.offset === null ? anchor : addDuration(anchor, step.mode.offset);
      break;
    }
    default:
      return assertNever(step.mode, 'wait mode');
  }
  if (step.at !== null) moment = atTimeOfDay(moment, step.at);
  const due = moment.toMillis();
  return Number.isFinite(due) ? { due } : { problem: 'invalid_date', field: fieldOf(step) };
}

function fieldOf(step: CompiledWaitStep): string | undefined {
  return step.mode.kind === 'field' ? step.mode.field : undefined;
}

/** Reads a customer field by path; `customer.` prefixes are optional, as in conditions. */
export function readField(attributes: Readonly<Record<string, unknown>>, field: string): unknown {
  const segments = field.split('.');
  if (segments[0] === 'customer' && segments.length > 1) segments.shift();
  let value: unknown = attributes;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment))
      return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function wait(run: Run, step: CompiledWaitStep): StepOutcome {
  const visit = run.visit(step);
  const target = waitTarget(run, step, run.now);
  if ('problem' in target) {
    // A wait that cannot be computed must not hold the customer forever: continue, and say so.
    run.emitEvent('step.skipped', {
      step_id: step.id,
      step_type: step.type,
      visit,
      reason: target.problem,
      ...(target.field === undefined ? {} : { field: target.field }),
    });
    return { kind: 'next' };
  }
  if (target.due <= run.now) {
    run.completeStep(step, visit, { outcome: 'target_passed', due_at: target.due });
    return { kind: 'next' };
  }
  const timer = run.scheduleTimer('wait', target.due, { step_id: step.id, visit });
  run.state.wait = { step: step.id, visit, kind: 'wait', timer, due: target.due, since: run.now };
  return { kind: 'waiting' };
}

function waitForEvent(run: Run, step: CompiledWaitForEventStep): StepOutcome {
  const visit = run.visit(step);
  if (step.timeout === null) {
    run.state.wait = {
      step: step.id,
      visit,
      kind: 'wait_for_event',
      timer: null,
      due: null,
      since: run.now,
    };
    return { kind: 'waiting' };
  }
  const due = addToInstant(run.now, step.timeout, run.zone);
  if (!(due > run.now)) {
    // A zero (or negative) timeout: nothing can arrive in time.
    run.completeStep(step, visit, { outcome: 'timeout' });
    return { kind: 'target', target: step.onTimeout };
  }
  const timer = run.scheduleTimer('wait_timeout', due, { step_id: step.id, visit });
  run.state.wait = { step: step.id, visit, kind: 'wait_for_event', timer, due, since: run.now };
  return { kind: 'waiting' };
}

/**
 * Assigns a variant from hash(seed, enrollment id, step id): stable across replays and simulation,
 * uniform across enrollments. The first `holdout` of the unit interval is the holdout; the rest is
 * divided by weight in declaration order. A variant once chosen is kept (loops come back to it).
 */
function split(run: Run, step: CompiledSplitStep): StepOutcome {
  const visit = run.visit(step);
  const kept = run.state.splits[step.id];
  let chosen =
    kept === SPLIT_HOLDOUT ? SPLIT_HOLDOUT : step.variants.find((v) => v.name === kept)?.name;
  if (chosen === undefined) {
    const u = unitInterval(run.ctx.seed, run.enrollment.id, step.id);
    chosen = assignVariant(step, u);
    run.state.splits[step.id] = chosen;
  }
  run.completeStep(step, visit, { variant: chosen });
  const variant = step.variants.find((v) => v.name === chosen);
  return variant === undefined ? { kind: 'next' } : { kind: 'target', target: variant.target };
}

/** The variant (or `holdout`) a point `u` in [0, 1) falls on. */
export function assignVariant(
  step: Pick<CompiledSplitStep, 'variants' | 'holdout' | 'totalWeight'>,
  u: number,
): string {
  if (u < step.holdout) return SPLIT_HOLDOUT;
  let point = ((u - step.holdout) / (1 - step.holdout)) * step.totalWeight;
  for (const variant of step.variants) {
    if (point < variant.weight) return variant.name;
    point -= variant.weight;
  }
  // Rounding can leave `point` a hair above the last weight.
  return step.variants[step.variants.length - 1]?.name ?? SPLIT_HOLDOUT;
}

function renderOptional(run: Run, text: CompiledText | null, missing: string[]): string | null {
  if (text === null) return null;
  const rendered = text(run.context());
  missing.push(...rendered.missing);
  return rendered.output === '' ? null : rendered.output;
}

function task(run: Run, step: CompiledTaskStep): StepOutcome {
  const visit = run.visit(step);
  const key = run.idempotencyKey(step, visit);
  const missing: string[] = [];
  const title = renderOptional(run, step.title, missing) ?? '';
  const assignee = renderOptional(run, step.assignee, missing);
  const description = renderOptional(run, step.description, missing);
  const taskId = run.ctx.ids.next('task');
  run.emit({
    type: 'create_task',
    idempotencyKey: key,
    missing,
    task: {
      id: taskId,
      customerId: run.customerId,
      journeyId: run.journey.id,
      title,
      assignee,
      dueAt: step.due === null ? null : addToInstant(run.now, step.due, run.zone),
      status: 'open',
      createdAt: run.now,
      data: {
        enrollment_id: run.enrollment.id,
        step_id: step.id,
        idempotency_key: key,
        ...(description === null ? {} : { description }),
        ...(step.priority === null ? {} : { priority: step.priority }),
      },
    },
  });
  run.completeStep(step, visit, { task_id: taskId });
  return { kind: 'next' };
}

function alert(run: Run, step: CompiledAlertStep): StepOutcome {
  const visit = run.visit(step);
  const key = run.idempotencyKey(step, visit);
  const missing: string[] = [];
  const message = renderOptional(run, step.message, missing) ?? '';
  const alertId = run.ctx.ids.next('alert');
  run.emit({
    type: 'create_alert',
    idempotencyKey: key,
    missing,
    alert: {
      id: alertId,
      customerId: run.customerId,
      journeyId: run.journey.id,
      severity: step.severity,
      message,
      assignee: renderOptional(run, step.assignee, missing),
      status: 'open',
      createdAt: run.now,
      data: { enrollment_id: run.enrollment.id, step_id: step.id, idempotency_key: key },
    },
  });
  run.completeStep(step, visit, { alert_id: alertId, severity: step.severity });
  return { kind: 'next' };
}

function webhook(run: Run, step: CompiledWebhookStep): StepOutcome {
  const visit = run.visit(step);
  const key = run.idempotencyKey(step, visit);
  const missing: string[] = [];
  const context = run.context();
  const headers: Record<string, string> = {};
  for (const header of step.headers) {
    const rendered = header.value(context);
    missing.push(...rendered.missing);
    headers[header.name] = rendered.output;
  }
  const body = step.body === null ? null : step.body(context);
  if (body !== null) missing.push(...body.missing);
  run.emit({
    type: 'call_webhook',
    idempotencyKey: key,
    missing,
    call: {
      webhook: step.webhook,
      url: renderOptional(run, step.url, missing),
      method: step.method,
      headers,
      body: body?.value ?? null,
      journeyId: run.journey.id,
      enrollmentId: run.enrollment.id,
      customerId: run.customerId,
      stepId: step.id,
    },
  });
  run.completeStep(step, visit, { webhook: step.webhook, method: step.method });
  return { kind: 'next' };
}

function updateCustomer(run: Run, step: CompiledUpdateCustomerStep): StepOutcome {
  const visit = run.visit(step);
  // Values render against the profile as it was when the step began, so `set: {a: x, b: "{{a}}"}`
  // does not depend on the order of keys.
  const context = run.context();
  const missing: string[] = [];
  const rendered = step.set.map((entry) => {
    const value = entry.value(context);
    missing.push(...value.missing);
    return { path: entry.path, value: value.value };
  });
  for (const entry of rendered)
    run.updateProfile({ op: 'set', path: entry.path, value: entry.value });
  for (const path of step.unset) run.updateProfile({ op: 'unset', path });
  run.completeStep(step, visit, {
    set: rendered.map((entry) => entry.path.join('.')),
    unset: step.unset.map((path) => path.join('.')),
    missing,
  });
  // The profile changed: exit criteria may hold now, and condition goals may be reached.
  if (run.checkExit()) return { kind: 'ended' };
  run.checkGoals();
  return run.isActive() ? { kind: 'next' } : { kind: 'ended' };
}
