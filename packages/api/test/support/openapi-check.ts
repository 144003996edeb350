import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiPath, UNDOCUMENTED_EXTENSION } from '../../src/index.js';

type Json = Record<string, unknown>;

/**
 * Problems with an OpenAPI document: [] when valid. The document against the OpenAPI 3.1 schema
 * (@seriousme/openapi-schema-validator), and each schema in it against the JSON Schema 2020-12
 * meta-schema (ajv), which the first leaves to the dialect.
 */
export async function openApiProblems(document: Json): Promise<string[]> {
  const result = await new Validator().validate(structuredClone(document));
  const found =
    typeof result.errors === 'string'
      ? [result.errors]
      : (result.errors ?? []).map((error) => `${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
  const ajv = new Ajv2020({ strict: false });
  for (const [where, schema] of schemasIn(document, '')) {
    if (!ajv.validateSchema(schema)) found.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
  }
  return found;
}

/** Every Schema Object of the document (under a `schema` key, or a component), with where it is. */
function* schemasIn(value: unknown, where: string): Generator<[string, Json]> {
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    const path = `${where}/${key}`;
    if ((key === 'schema' || where === '/components/schemas') && inner && typeof inner === 'object') {
      yield [path, inner as Json];
    } else {
      yield* schemasIn(inner, path);
    }
  }
}

/** The routes a served document says its server registered without a contract. */
export function undocumentedRoutes(document: Json): string[] {
  return (document[UNDOCUMENTED_EXTENSION] as string[] | undefined) ?? [];
}

export const HOW_TO_DOCUMENT =
  'every route needs a contract: define it with defineRoute in packages/api (request and response ' +
  'schemas, access, errors) and register the route with routeOptions(Contract) — see docs/api.md';

/** One answer, as the check needs it. */
export interface Answer {
  readonly method: string;
  /** The path requested, query string allowed. */
  readonly url: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
}

/**
 * Checks real answers against an OpenAPI document with a JSON Schema 2020-12 validator (ajv):
 * the operation is found by path template, the response by status (else `default`), the schema
 * by media type.
 */
export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Operations answered at least once, by `METHOD template status`. */
  readonly seen = new Set<string>();

  constructor(private readonly document: Json) {
    addFormats.default(this.ajv);
  }

  /** What is wrong with the answer; [] when the document describes it. */
  problems(answer: Answer): string[] {
    const path = answer.url.split('?')[0] ?? '';
    const template = this.templateFor(path);
    const where = `${answer.method} ${answer.url} → ${answer.status}`;
    if (!template) return [`${where}: no path in the document matches`];
    const paths = this.document.paths as Record<string, Record<string, Json>>;
    const operation = paths[template]?.[answer.method.toLowerCase()];
    if (!operation) return [`${where}: ${template} has no ${answer.method}`];
    const responses = operation.responses as Record<string, Json>;
    const key = String(answer.status) in responses ? String(answer.status) : 'default';
    const response = responses[key];
    if (!response) return [`${where}: status not documented`];
    this.seen.add(`${answer.method} ${template} ${key}`);
    const content = response.content as Record<string, { schema?: Json }>;
    const mediaType = (answer.contentType ?? '').split(';')[0]?.trim() ?? '';
    const entry = Object.entries(content).find(([type]) => type.split(';')[0]?.trim() === mediaType);
    if (!entry) return [`${where}: content type ${mediaType} not documented (${Object.keys(content).join(', ')})`];
    const schema = entry[1].schema;
    if (!schema || typeof answer.body === 'string') return [];
    const id = `${answer.method} ${template} ${key} ${entry[0]}`;
    let validate = this.compiled.get(id);
    if (!validate) {
      validate = this.ajv.compile(this.resolved(schema));
      this.compiled.set(id, validate);
    }
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map(
      (error) => `${where}: ${error.instancePath || 'body'} ${error.message} ${JSON.stringify(error.params)}`,
    );
  }

  private templateFor(path: string): string | undefined {
    const templates = Object.keys(this.document.paths as Json);
    return templates.find((template) => {
      const pattern = new RegExp(`^${openApiPath(template).replace(/\{[^}]+\}/g, '[^/]+')}$`);
      return pattern.test(path);
    });
  }

  /** The schema with `#/components/schemas/…` references replaced by what they point at. */
  private resolved(schema: Json): Json {
    const components = (this.document.components as { schemas: Record<string, Json> }).schemas;
    const walk = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(walk);
      if (value === null || typeof value !== 'object') return value;
      const ref = (value as Json).$ref;
      if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
        return walk(components[ref.slice('#/components/schemas/'.length)]);
      }
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    };
    return walk(schema) as Json;
  }
}
