/**
 * TEMPORARY stand-in for `compileParams` of src/templates, which is being written concurrently;
 * replaced by an import from '../templates/index.js' as soon as that exists. Same contract:
 * a string that is exactly one placeholder keeps the value's type (missing → null), mixed strings
 * interpolate (missing → ''), and every missing path is reported.
 */
import type { ConditionContext } from '../conditions/index.js';
import { fieldReader } from './field.js';

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}\s]+)\s*\}\}$/;

type Render = (context: ConditionContext, missing: string[]) => unknown;

function compileValue(value: unknown): Render {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole?.[1] !== undefined) {
      const path = whole[1];
      const read = fieldReader(path);
      return (context, missing) => {
        const found = read(context);
        if (found === null) missing.push(path);
        return found;
      };
    }
    if (!value.includes('{{')) return () => value;
    const parts = value.split(PLACEHOLDER);
    const renders = parts.map((part, i): Render => {
      if (i % 2 === 0) return () => part;
      const read = fieldReader(part);
      return (context, missing) => {
        const found = read(context);
        if (found === null) {
          missing.push(part);
          return '';
        }
        if (typeof found === 'string') return found;
        return JSON.stringify(found);
      };
    });
    return (context, missing) => renders.map((render) => render(context, missing)).join('');
  }
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    return (context, missing) => items.map((item) => item(context, missing));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => [key, compileValue(item)] as const);
    return (context, missing) =>
      Object.fromEntries(entries.map(([key, item]) => [key, item(context, missing)]));
  }
  return () => value;
}

/** See the file comment. */
export function compileParams(
  params: unknown,
): (context: ConditionContext) => { value: unknown; missing: string[] } {
  const render = compileValue(params);
  return (context) => {
    const missing: string[] = [];
    return { value: render(context, missing), missing };
  };
}
