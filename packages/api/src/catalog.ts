import { Environment, Service, ServiceName, SourceStatus } from '@spillway/model';
import { z } from 'zod';
import { defineRoute, json, problem } from './route-contract.js';

export { SourceStatus } from '@spillway/model';

const MAX_WAIT_MS = 300_000;

/** Consul-style durations: `500ms`, `30s`, `5m` (at most 5 minutes), as milliseconds. */
export const WaitDuration = z
  .string()
  .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 500ms, 30s or 5m')
  .transform((text) => {
    const value = Number.parseInt(text, 10);
    const unit = text.endsWith('ms') ? 1 : text.endsWith('s') ? 1000 : 60_000;
    return Math.min(value * unit, MAX_WAIT_MS);
  });

/** Names one run of the federation's catalog versions: they restart at 0 with every run. */
export const CatalogEpoch = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected the epoch of an earlier answer (letters, digits and -, at most 64)');

export const ChangesQuery = z.strictObject({
  index: z.coerce.number().int().min(0).default(0).describe('the index of the last answer; 0: everything'),
  epoch: CatalogEpoch.optional().describe(
    'the epoch of the answer `index` comes from; another epoch than the current one: everything (reset)',
  ),
  wait: WaitDuration.default(30_000).describe('how long to wait for a change (500ms, 30s, 5m; at most 5m)'),
});

export const ServicesQuery = z.strictObject({
  namespace: z.string().optional().describe('only the services of this namespace'),
});

export const ServiceParams = z.object({ ns: z.string(), name: z.string() });

export const ClustersResponse = z.object({
  version: z.number().int().describe('the catalog version'),
  clusters: z.array(SourceStatus),
});
export type ClustersResponse = z.infer<typeof ClustersResponse>;

/** A row of GET /v1/services: enough to see where a service runs and how healthy it is. */
export const ServiceSummary = z.object({
  key: z.string().describe('NAME.NS'),
  name: ServiceName,
  namespace: ServiceName,
  endpoints: z.number().int(),
  healthy: z.number().int(),
  environments: z.array(Environment),
  clusters: z.array(z.string()),
});
export type ServiceSummary = z.infer<typeof ServiceSummary>;

export const ServicesResponse = z.object({ version: z.number().int(), services: z.array(ServiceSummary) });
export type ServicesResponse = z.infer<typeof ServicesResponse>;

export const ServiceResponse = Service.extend({ version: z.number().int(), key: z.string() });
export type ServiceResponse = z.infer<typeof ServiceResponse>;

/** What a follower at `index` needs to reach `index` of the answer. */
export const CatalogDelta = z.object({
  index: z.number().int().describe('the catalog version this answer brings the follower to'),
  epoch: CatalogEpoch.describe('the run `index` is counted in; send it back with the next `index`'),
  reset: z.boolean().describe('true: `services` is the whole catalog (index 0, another epoch, or history too short)'),
  services: z.array(Service).describe('the services that changed (all of them on a reset)'),
  removed: z.array(z.string()).describe('NAME.NS of services that no longer exist'),
});
export type CatalogDelta = z.infer<typeof CatalogDelta>;

const TAG = 'federation';

export const ListClustersRoute = defineRoute({
  method: 'GET',
  url: '/v1/clusters',
  operationId: 'listClusters',
  summary: 'The registered clusters (sources) and their liveness',
  tag: TAG,
  access: 'read',
  responses: { 200: json(ClustersResponse, 'every source') },
});

export const ListServicesRoute = defineRoute({
  method: 'GET',
  url: '/v1/services',
  operationId: 'listServices',
  summary: 'Services of the merged catalog, one row each',
  tag: TAG,
  access: 'read',
  query: ServicesQuery,
  responses: { 200: json(ServicesResponse, 'the services, by key') },
});

export const GetServiceRoute = defineRoute({
  method: 'GET',
  url: '/v1/services/:ns/:name',
  operationId: 'getService',
  summary: 'One service with every endpoint (locality, health, weight)',
  tag: TAG,
  access: 'read',
  params: ServiceParams,
  responses: {
    200: json(ServiceResponse, 'the service'),
    404: problem('no such service in the catalog'),
  },
});

export const CatalogChangesRoute = defineRoute({
  method: 'GET',
  url: '/v1/catalog/changes',
  operationId: 'watchCatalog',
  summary: 'Change feed (long poll): answers when the catalog passes `index`, or after `wait`',
  tag: TAG,
  access: 'read',
  query: ChangesQuery,
  responses: {
    200: json(CatalogDelta, 'the changes since index', { 'X-Spillway-Index': 'the catalog version answered' }),
  },
});
