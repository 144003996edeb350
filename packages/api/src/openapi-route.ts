import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument, type JsonObject, type OpenApiDocumentOptions } from './openapi-document.js';
import { OpenApiRoute } from './operational.js';
import { type RouteContract, routeOptions } from './route-contract.js';

/**
 * Top-level extension listing the routes this server registered without a contract. Absent when
 * every route is documented; the tests require it absent.
 */
export const UNDOCUMENTED_EXTENSION = 'x-spillway-undocumented-routes';

/** A route Fastify registered, with its contract when it has one. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly contract: RouteContract | undefined;
}

export interface OpenApiRegistration {
  /** Every route registered after registerOpenApi (HEAD twins of GET routes left out). */
  routes(): readonly RegisteredRoute[];
  /** Routes with no contract, or whose contract names another method or URL: what the document misses. */
  undocumented(): readonly RegisteredRoute[];
  document(options?: Pick<OpenApiDocumentOptions, 'closedResponses'>): JsonObject;
}

/**
 * Serves `GET /openapi.json`: the OpenAPI 3.1 document of the routes this server registers,
 * made from their contracts (`config.api`, see routeOptions). Call it before registering any
 * route: an onRoute hook collects them. The document is built once, at the first request.
 */
export function registerOpenApi(
  app: FastifyInstance,
  options: Pick<OpenApiDocumentOptions, 'title' | 'version'>,
): OpenApiRegistration {
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // Fastify adds a HEAD twin to every GET route (exposeHeadRoutes); it answers as the GET does.
      if (method === 'HEAD') continue;
      registered.push({ method, url: route.url, contract: route.config?.api });
    }
  });
  const matches = (route: RegisteredRoute) =>
    route.contract !== undefined && route.contract.method === route.method && route.contract.url === route.url;
  let served: JsonObject | undefined;
  const registration: OpenApiRegistration = {
    routes: () => registered,
    undocumented: () => registered.filter((route) => !matches(route)),
    document: (extra = {}) => {
      const document = buildOpenApiDocument(
        registered.filter(matches).map((route) => route.contract as RouteContract),
        { ...options, ...extra },
      );
      // Said in the document itself, so a test of a separate process sees what its server misses.
      const missing = registration.undocumented().map((route) => `${route.method} ${route.url}`);
      return missing.length > 0 ? { ...document, [UNDOCUMENTED_EXTENSION]: missing } : document;
    },
  };
  app.get(OpenApiRoute.url, routeOptions(OpenApiRoute), async () => {
    served ??= registration.document();
    return served;
  });
  return registration;
}
