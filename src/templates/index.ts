/**
 * Templates: `{{ customer.first_name | default: "there" }}` placeholders in message content and
 * action params, compiled once and rendered without throwing. Documented in docs/templates.md.
 */
export type {
  CompiledParams,
  CompiledTemplate,
  ParamsRender,
  TemplateContext,
  TemplateEscape,
  TemplateOptions,
  TemplateProblem,
  TemplateRender,
} from './types.js';
export { compileTemplate, validateTemplate, escapeHtml } from './render.js';
export { compileParams, renderParams, validateParams, type ParamsOptions } from './params.js';
export { InvalidTemplateError } from './errors.js';
export { FILTER_NAMES } from './filters.js';
