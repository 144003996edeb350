import { z } from 'zod';
import { Problem } from './problem.js';
import { problem, type ResponseSpec, type RouteContract } from './route-contract.js';

/** A JSON Schema or OpenAPI object as plain JSON. */
export type JsonObject = { [key: string]: unknown };

export interface OpenApiDocumentOptions {
  /** `info.title`: which process this is (`Spillway federation API`, …). */
  readonly title: string;
  readonly version: string;
  /**
   * Keep `additionalProperties: false` on response objects. The served document leaves it out
   * (a newer server may add fields; clients ignore what they do not know); the tests keep it, so
   * a field sent but not documented fails them.
   */
  readonly closedResponses?: boolean;
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/**
 * The OpenAPI 3.1 document of these routes. Schemas come from zod (`z.toJSONSchema`, JSON
 * Schema 2020-12, which is OpenAPI 3.1's dialect): requests as zod accepts them (`io: input`:
 * defaults make fields optional, coercions and transforms show what is sent), responses as the
 * server sends them (`io: output`).
 */
export function buildOpenApiDocument(routes: readonly RouteContract[], options: OpenApiDocumentOptions): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  const sorted = [...routes].sort((a, b) =>
    a.url === b.url ? a.method.localeCompare(b.method) : a.url < b.url ? -1 : 1,
  );
  for (const route of sorted) {
    const path = openApiPath(route.url);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, options);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: options.title,
      version: options.version,
      description:
        'Generated from the zod schemas that validate the routes (packages/api). Errors are RFC 9457 ' +
        'problem+json. Reads are open without a token on loopback; mutations need a bearer token whose ' +
        'role is in x-spillway-role (viewer < operator < admin; webhook for Alertmanager).',
    },
    paths,
    components: {
      schemas: { Problem: schemaOf(Problem, 'output', options) },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from auth.tokens in the config, or the admin token Spillway makes at start.',
        },
      },
    },
  };
}

/** `/v1/bursts/:id` → `/v1/bursts/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operation(route: RouteContract, options: OpenApiDocumentOptions): JsonObject {
  const parameters = [...parametersOf(route.params, 'path', options), ...parametersOf(route.query, 'query', options)];
  const responses: Record<string, JsonObject> = {};
  for (const [status, spec] of Object.entries(responsesOf(route))) {
    responses[status] = responseObject(spec, options);
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...securityOf(route),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: Object.fromEntries(
              (route.bodyTypes ?? ['application/json']).map((type) => [
                type,
                { schema: schemaOf(route.body as z.ZodType, 'input', options) },
              ]),
            ),
          },
        }
      : {}),
    responses,
  };
}

/** Open reads may be called without a token; `security` lists the alternatives. */
function securityOf(route: RouteContract): JsonObject {
  switch (route.access) {
    case 'public':
      return { security: [], 'x-spillway-role': 'none' };
    case 'read':
      return { security: [{}, { bearer: [] }], 'x-spillway-role': 'viewer' };
    default:
      return { security: [{ bearer: [] }], 'x-spillway-role': route.access };
  }
}

/** The route's own answers plus the ones every route of its kind can give. */
function responsesOf(route: RouteContract): Record<string, ResponseSpec> {
  const common: Record<string, ResponseSpec> = {};
  if (route.params || route.query || route.body) {
    common['400'] = problem('a parameter or the body is not valid: detail names the field');
  }
  if (route.access !== 'public') {
    common['401'] = problem(
      route.access === 'read'
        ? 'no bearer token or an unknown one, where reads are not open (off loopback)'
        : 'no bearer token, or one nobody configured',
      { 'WWW-Authenticate': 'Bearer realm="spillway"' },
    );
    common['403'] = problem(`the token's role is below ${route.access === 'read' ? 'viewer' : route.access}`);
  }
  if (route.body) {
    common['413'] = problem('the body is larger than the route accepts');
    common['415'] = problem(
      `the body's Content-Type is not one of ${(route.bodyTypes ?? ['application/json']).join(', ')}`,
    );
  }
  common['421'] = problem('reads are open on loopback and the Host header names another host (DNS rebinding)');
  common.default = problem('the server failed (500) or timed out the request (408); see its log');
  return { ...common, ...Object.fromEntries(Object.entries(route.responses)) };
}

function responseObject(spec: ResponseSpec, options: OpenApiDocumentOptions): JsonObject {
  const type = spec.contentType ?? 'application/json';
  const schema = spec.schema === Problem ? PROBLEM_REF : spec.schema ? schemaOf(spec.schema, 'output', options) : {};
  return {
    description: spec.description,
    ...(spec.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(spec.headers).map(([name, description]) => [
              name,
              { description, schema: { type: 'string' } },
            ]),
          ),
        }
      : {}),
    content: { [type]: spec.schema ? { schema } : { schema: { type: 'string' } } },
  };
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query', options: OpenApiDocumentOptions) {
  if (!schema) return [];
  const json = schemaOf(schema, 'input', options);
  const properties = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/** One schema, inlined (no `$ref`s: a `#/$defs` pointer would resolve against the document, not the schema). */
export function schemaOf(schema: z.ZodType, io: 'input' | 'output', options: OpenApiDocumentOptions): JsonObject {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    reused: 'inline',
    // Refinements (printable text, cross-field checks) have no JSON Schema form: the handler still runs them.
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (io === 'output' && !options.closedResponses && jsonSchema.additionalProperties === false) {
        delete jsonSchema.additionalProperties;
      }
    },
  }) as JsonObject;
  delete json.$schema;
  return json;
}
