/**
 * The OpenAPI 3.1 document, generated from the route declarations and their zod schemas (one
 * source of truth: a route cannot exist undocumented, nor a parameter be documented but unchecked).
 */
import { z } from 'zod';
import { limitSchema, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './input.js';
import { namedResponseSchemas, responseSchemas, type SchemaName } from './representations.js';
import { openApiPath, type Route } from './route.js';

/** A JSON Schema / OpenAPI object, as generated. */
type JsonSchemaObject = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** What `/v1/...` routes are grouped by in the document. */
const TAGS: { name: string; description: string }[] = [
  { name: 'events', description: 'Ingestion of customer events.' },
  { name: 'customers', description: 'Customer profiles and their history.' },
  { name: 'journeys', description: "Journey control: the guide's JourneyAPI." },
  { name: 'records', description: 'Messages, enrollments, tasks and alerts.' },
  { name: 'delivery', description: 'The dead-letter queue: messages no channel could deliver.' },
  { name: 'inbox', description: "A customer's in-app inbox: list it, mark messages read." },
  { name: 'tasks', description: 'The CSM task manager: look up, complete and cancel tasks.' },
  {
    name: 'decisions',
    description: 'The AI decision engine: next best action, prediction scores, the model registry.',
  },
  { name: 'system', description: 'Health, metrics and this document.' },
];

/** Builds the document for `routes`. Throws when a route uses a response schema without a name. */
export function buildOpenApiDocument(routes: readonly Route[], version: string): JsonSchemaObject {
  // A registry of its own per document: request bodies get names here without touching the
  // shared registry of response schemas.
  const registry = z.registry<SchemaName>();
  for (const { schema, name } of namedResponseSchemas) registry.add(schema, name);
  const schemas: (readonly [string, z.ZodType])[] = namedResponseSchemas.map(
    ({ schema, name }) => [name.id, schema] as const,
  );
  const requestBodies = new Map<Route, string>();
  for (const route of routes) {
    const body = requestBodyOf(route);
    if (body === null) continue;
    const existing = registry.get(body.schema);
    if (existing) {
      requestBodies.set(route, existing.id);
    } else {
      registry.add(body.schema, { id: body.id, description: body.description });
      schemas.push([body.id, body.schema]);
      requestBodies.set(route, body.id);
    }
  }

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    const item = (paths[path] ??= {});
    item[route.method.toLowerCase()] = operation(route, requestBodies.get(route) ?? null);
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Waymark API',
      version,
      description:
        'Customer journey orchestration. Every error is {"error": {"code", "message", "details"}}; clients branch on code. See docs/api.md.',
    },
    tags: TAGS,
    paths,
    components: { schemas: componentSchemas(registry, schemas) },
  };
}

function requestBodyOf(
  route: Route,
): { id: string; schema: z.ZodType; description: string } | null {
  if (route.bodyDoc) return route.bodyDoc;
  if (route.body) {
    return {
      id: `${upperFirst(route.operationId)}Request`,
      schema: route.body,
      description: `Body of ${route.method} ${openApiPath(route.url)}.`,
    };
  }
  return null;
}

function operation(route: Route, requestBodyId: string | null): JsonSchemaObject {
  const parameters = [
    ...parametersOf(route.params, 'path'),
    ...parametersOf(route.query, 'query'),
    ...route.headers.map((h) => ({
      name: h.name,
      in: 'header',
      required: false,
      description: h.description,
      schema: { type: 'string', maxLength: 256 },
    })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    const contentType = doc.contentType ?? 'application/json';
    responses[status] = {
      description: doc.description,
      content: {
        [contentType]: { schema: doc.schema ? refTo(doc.schema) : { type: 'string' } },
      },
    };
  }
  const errors: Record<string, string> = { ...route.errors };
  if (requestBodyId !== null || route.body !== undefined) {
    errors['400'] ??= 'INVALID_JSON';
    errors['413'] ??= 'BODY_TOO_LARGE';
    errors['415'] ??= 'UNSUPPORTED_MEDIA_TYPE';
  }
  errors['500'] ??= 'INTERNAL: a server-side failure (logged; the message is generic)';
  for (const [status, description] of Object.entries(errors)) {
    responses[status] = {
      description,
      content: { 'application/json': { schema: { $ref: `${COMPONENTS}Error` } } },
    };
  }
  const op: JsonSchemaObject = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    parameters,
    responses,
  };
  if (route.description !== undefined) op['description'] = route.description;
  if (requestBodyId !== null) {
    const schema = requestBodyOf(route)?.schema;
    op['requestBody'] = {
      required: schema ? !schema.safeParse(undefined).success : true,
      content: { 'application/json': { schema: { $ref: `${COMPONENTS}${requestBodyId}` } } },
    };
  }
  return op;
}

function parametersOf(
  schema: z.ZodType | undefined,
  location: 'path' | 'query',
): JsonSchemaObject[] {
  if (schema === undefined) return [];
  if (!(schema instanceof z.ZodObject)) {
    throw new Error(`${location} parameters must be declared as a zod object`);
  }
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => ({
    name,
    in: location,
    required: location === 'path' || !field.safeParse(undefined).success,
    schema: field === limitSchema ? limitDoc() : jsonSchema(field),
  }));
}

/** `limit` is validated as digits (so `1e3` is refused) but documented as what it is. */
function limitDoc(): JsonSchemaObject {
  return { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT };
}

function refTo(schema: z.ZodType): JsonSchemaObject {
  const name = responseSchemas.get(schema);
  if (!name) throw new Error('a response schema must be registered with a name (see named())');
  return { $ref: `${COMPONENTS}${name.id}` };
}

const generation = {
  target: 'draft-2020-12',
  io: 'input',
  unrepresentable: 'any',
  override: (ctx: { jsonSchema: JsonSchemaObject }) => {
    const s = ctx.jsonSchema;
    // zod writes the exact ISO pattern and the safe-integer bounds out in full; format and type
    // already say it, and the noise would bury the real constraints.
    if (s['format'] === 'date-time') delete s['pattern'];
    if (s['minimum'] === Number.MIN_SAFE_INTEGER) delete s['minimum'];
    if (s['maximum'] === Number.MAX_SAFE_INTEGER) delete s['maximum'];
  },
} as const;

function jsonSchema(field: z.ZodType): JsonSchemaObject {
  const generated = z.toJSONSchema(field, generation) as JsonSchemaObject;
  delete generated['$schema'];
  return generated;
}

/**
 * Every named schema, generated in one pass so shared and recursive parts (condition groups) are
 * emitted once; zod puts named ones under `$defs` by their id, and those become the components.
 * One pass can serve requests and responses alike because response schemas have no transforms or
 * defaults, where the input and output forms would differ.
 */
function componentSchemas(
  registry: z.core.$ZodRegistry<SchemaName>,
  schemas: readonly (readonly [string, z.ZodType])[],
): JsonSchemaObject {
  const wrapper = z.object(Object.fromEntries(schemas));
  const generated = z.toJSONSchema(wrapper, { ...generation, metadata: registry }) as {
    $defs?: Record<string, unknown>;
  };
  return rewriteRefs(generated.$defs ?? {}) as JsonSchemaObject;
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
        ? `${COMPONENTS}${v.slice('#/$defs/'.length)}`
        : rewriteRefs(v);
  }
  return out;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
