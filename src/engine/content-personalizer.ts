/**
 * The content personalizer as the engine runs it: one `TemplatePersonalizer` per template with
 * `selection: bandit`, shared by every journey step and rule that sends the template, choosing
 * with `chooseVariant` over what the project's `EngagementLearning` has seen of the template's
 * variants. The variant it chooses for a customer is remembered briefly, so the message gate can
 * put the choice and its reasoning into the message's journey event.
 */
import {
  chooseVariant,
  type EngagementLearning,
  type VariantChoice,
  type VariantOption,
} from '../decisions/index.js';
import type { TemplateDefinition, VariantPersonalizer } from '../journeys/index.js';

/** Choices remembered for the journey event (the gate asks right after the choice). */
const REMEMBERED_CHOICES = 1_000;

/** See the module comment. */
export class TemplatePersonalizer implements VariantPersonalizer {
  readonly template: string;
  readonly #variants: readonly VariantOption[];
  readonly #learning: EngagementLearning;
  readonly #recent = new Map<number, VariantChoice>();

  constructor(template: string, definition: TemplateDefinition, learning: EngagementLearning) {
    this.template = template;
    this.#variants = (definition.variants ?? []).map((v) => ({
      name: v.name,
      weight: v.weight ?? 1,
    }));
    this.#learning = learning;
  }

  /** The variant for the customer behind `point` (see `chooseVariant`). */
  choose(point: number): string | null {
    // Always chosen on the current shares: the remembered choice only serves `explain`, so a
    // customer among the last thousand is not frozen on an older allocation.
    const choice = chooseVariant(
      this.#variants,
      this.#learning.variantCounts(this.template),
      point,
    );
    if (choice === null) return null;
    this.#recent.set(point, choice);
    if (this.#recent.size > REMEMBERED_CHOICES) {
      const oldest = this.#recent.keys().next();
      if (oldest.done !== true) this.#recent.delete(oldest.value);
    }
    return choice.variant;
  }

  /**
   * The choice for `point` with its reasoning: the one made last for it when remembered (the
   * counts may have moved since), else as it would be made now.
   */
  explain(point: number): VariantChoice | null {
    return (
      this.#recent.get(point) ??
      chooseVariant(this.#variants, this.#learning.variantCounts(this.template), point)
    );
  }
}

/** A personalizer for each template with `selection: bandit` and at least two variants. */
export function templatePersonalizers(
  templates: Readonly<Record<string, TemplateDefinition>>,
  learning: EngagementLearning,
): Map<string, TemplatePersonalizer> {
  const out = new Map<string, TemplatePersonalizer>();
  for (const [name, template] of Object.entries(templates)) {
    if (template.selection === 'bandit' && (template.variants?.length ?? 0) > 1) {
      out.set(name, new TemplatePersonalizer(name, template, learning));
    }
  }
  return out;
}
