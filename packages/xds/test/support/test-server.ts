import type { MeshSecurity, TrafficPolicyReader } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import {
  type LoadReportingOptions,
  type XdsAuthorizationRule,
  XdsServer,
  type XdsTlsOptions,
} from '../../src/index.js';
import { InMemoryCatalog } from './in-memory-catalog.js';

export interface TestXdsServer {
  readonly server: XdsServer;
  readonly port: number;
  readonly catalog: InMemoryCatalog;
  readonly policies: InMemoryTrafficPolicyStore;
  readonly registry: ReturnType<typeof createMetricsRegistry>;
}

export async function startTestXdsServer(
  options: {
    catalog?: InMemoryCatalog;
    policies?: InMemoryTrafficPolicyStore;
    port?: number;
    refreshIntervalMs?: number;
    security?: MeshSecurity;
    tls?: XdsTlsOptions;
    authorization?: readonly XdsAuthorizationRule[];
    loadReporting?: LoadReportingOptions;
  } = {},
): Promise<TestXdsServer> {
  const catalog = options.catalog ?? new InMemoryCatalog();
  const policies = options.policies ?? new InMemoryTrafficPolicyStore();
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const server = new XdsServer({
    catalog,
    policies: policies as TrafficPolicyReader,
    logger: silentLogger(),
    registry,
    ...(options.refreshIntervalMs ? { refreshIntervalMs: options.refreshIntervalMs } : {}),
    ...(options.security ? { security: options.security } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.authorization ? { authorization: options.authorization } : {}),
    ...(options.loadReporting ? { loadReporting: options.loadReporting } : {}),
  });
  const port = await server.listen(`127.0.0.1:${options.port ?? 0}`);
  return { server, port, catalog, policies, registry };
}
