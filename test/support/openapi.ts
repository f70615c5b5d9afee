/**
 * Validates response bodies against Stripe's published schemas (spec/apps-secret.json): the
 * `apps.secret` object, the list object, and the error object.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { ROOT } from './server-process.js';

type Json = Record<string, unknown>;

const spec = JSON.parse(readFileSync(join(ROOT, 'spec/apps-secret.json'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
};

/** OpenAPI 3.0 to JSON Schema: `nullable` becomes a type union; vendor keys are dropped. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key.startsWith('x-') || key === 'nullable' || key === 'format' || key === 'description') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', '#/definitions/');
      continue;
    }
    out[key] = toJsonSchema(value);
  }
  if ((node as Json).nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (out.anyOf) out.anyOf = [...(out.anyOf as unknown[]), { type: 'null' }];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

const definitions = toJsonSchema(spec.components.schemas) as Json;
// api_errors points at objects (charge, source, ...) not in the extract; they never appear here.
const apiErrors = definitions.api_errors as { properties: Json };
for (const key of Object.keys(apiErrors.properties)) {
  const prop = apiErrors.properties[key] as Json;
  if (JSON.stringify(prop).includes('#/definitions/') && !JSON.stringify(prop).includes('apps.secret')) {
    apiErrors.properties[key] = {};
  }
}

const ajv = new Ajv({ strict: false, allErrors: true });

const schemaOf = (path: string, method: string): Json =>
  toJsonSchema(spec.paths[path]?.[method]?.responses['200']?.content['application/json']?.schema) as Json;

function compile(schema: Json): ValidateFunction {
  return ajv.compile({ ...schema, definitions });
}

const validators = {
  secret: compile({ $ref: '#/definitions/apps.secret' }),
  list: compile(schemaOf('/v1/apps/secrets', 'get')),
  create: compile(schemaOf('/v1/apps/secrets', 'post')),
  find: compile(schemaOf('/v1/apps/secrets/find', 'get')),
  delete: compile(schemaOf('/v1/apps/secrets/delete', 'post')),
  error: compile({ $ref: '#/definitions/error' }),
};

export type SchemaName = keyof typeof validators;

/** Throws with ajv's messages when `body` does not match the named schema. */
export function assertMatchesSchema(name: SchemaName, body: unknown): void {
  const validate = validators[name];
  if (!validate(body)) {
    throw new Error(
      `response does not match the ${name} schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    );
  }
}
