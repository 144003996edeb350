import { z } from 'zod';
import apiPackage from '../package.json' with { type: 'json' };
import { defineRoute, json, routeOptions } from './route-contract.js';

/** `info.version` of the documents: this package's version, raised when the API changes. */
export const API_VERSION: string = apiPackage.version;

export const Health = z.object({ status: z.literal('ok') });
export type Health = z.infer<typeof Health>;

export const ReadinessCheckResult = z.object({
  name: z.string(),
  ready: z.boolean(),
  detail: z.string().optional().describe('what is missing when it is not ready'),
});

export const Readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.array(ReadinessCheckResult),
});
export type Readiness = z.infer<typeof Readiness>;

/** An OpenAPI document: only its frame is described here. */
export const OpenApiDocumentBody = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

export const HealthRoute = defineRoute({
  method: 'GET',
  url: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness: answers while the process serves HTTP',
  tag: 'operations',
  access: 'public',
  responses: { 200: json(Health, 'the process is alive') },
});

export const ReadinessRoute = defineRoute({
  method: 'GET',
  url: '/readyz',
  operationId: 'getReadiness',
  summary: 'Readiness: every check passes',
  tag: 'operations',
  access: 'public',
  responses: {
    200: json(Readiness, 'every check passes'),
    503: json(Readiness, 'a check fails: its detail says what is missing (not problem+json: probes read checks)'),
  },
});

export const MetricsRoute = defineRoute({
  method: 'GET',
  url: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (text exposition format)',
  tag: 'operations',
  access: 'public',
  responses: { 200: { description: 'the metrics', contentType: 'text/plain; version=0.0.4; charset=utf-8' } },
});

export const OpenApiRoute = defineRoute({
  method: 'GET',
  url: '/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This document: the routes this process serves, made from their zod schemas',
  tag: 'operations',
  access: 'read',
  responses: { 200: json(OpenApiDocumentBody, 'the OpenAPI 3.1 document') },
});

/** For observability's registerOperationalRoutes: the contracts of /healthz, /readyz and /metrics. */
export const operationalRouteOptions = {
  '/healthz': routeOptions(HealthRoute),
  '/readyz': routeOptions(ReadinessRoute),
  '/metrics': routeOptions(MetricsRoute),
} as const;
