import { CliError } from '../load-config.js';
import { type ClientOptions, clientContext } from './connection.js';
import { ServiceResponse, type ServiceSummary, ServicesResponse } from './schemas.js';
import { formatTable } from './table.js';

export interface CatalogOptions extends ClientOptions {
  readonly namespace?: string;
}

/** `NAME.NS`, or `NAME` with --namespace; anything else is a usage error. */
export function parseServiceArgument(text: string, namespace: string | undefined): { name: string; ns: string } {
  const dot = text.indexOf('.');
  if (dot < 0 && namespace) return { name: text, ns: namespace };
  const name = text.slice(0, dot);
  const ns = text.slice(dot + 1);
  if (dot <= 0 || ns === '' || ns.includes('.')) {
    throw new CliError(`"${text}" is not a service: expected NAME.NS, e.g. echo.demo (or NAME with --namespace)`, 2);
  }
  if (namespace && namespace !== ns) throw new CliError(`${text} is not in namespace ${namespace}`, 2);
  return { name, ns };
}

/** `spillway catalog [SERVICE]`: the services table, or one service's endpoints. */
export async function catalogCommand(service: string | undefined, options: CatalogOptions): Promise<void> {
  if (service) return showService(parseServiceArgument(service, options.namespace), options);
  const { api, output } = clientContext(options);
  const response = await api.get('/v1/services', ServicesResponse, { namespace: options.namespace });
  if (output.json) return output.writeJson(response);
  if (response.services.length === 0) {
    output.out(
      `no services${options.namespace ? ` in namespace ${options.namespace}` : ''} (catalog v${response.version})`,
    );
    return;
  }
  output.out(servicesTable(response.services));
}

export function servicesTable(services: readonly ServiceSummary[]): string {
  return formatTable(
    [
      { header: 'SERVICE' },
      { header: 'ENDPOINTS', align: 'right' },
      { header: 'HEALTHY', align: 'right' },
      { header: 'ENVIRONMENTS' },
      { header: 'CLUSTERS' },
    ],
    services.map((service) => [
      service.key,
      String(service.endpoints),
      String(service.healthy),
      service.environments.join(','),
      service.clusters.join(','),
    ]),
  );
}

async function showService(key: { name: string; ns: string }, options: ClientOptions): Promise<void> {
  const { api, output } = clientContext(options);
  const path = `/v1/services/${encodeURIComponent(key.ns)}/${encodeURIComponent(key.name)}`;
  const service = await api.get(path, ServiceResponse);
  if (output.json) return output.writeJson(service);
  output.out(endpointsTable(service));
}

export function endpointsTable(service: ServiceResponse): string {
  if (service.endpoints.length === 0) return `${service.key}: no endpoints`;
  return formatTable(
    [
      { header: 'ADDRESS' },
      { header: 'CLUSTER' },
      { header: 'ENV' },
      { header: 'REGION/ZONE' },
      { header: 'HEALTH' },
      { header: 'WEIGHT', align: 'right' },
    ],
    service.endpoints.map((endpoint) => [
      endpoint.address.includes(':')
        ? `[${endpoint.address}]:${endpoint.port}`
        : `${endpoint.address}:${endpoint.port}`,
      endpoint.cluster,
      endpoint.environment,
      [endpoint.locality.region, endpoint.locality.zone, endpoint.locality.subZone].filter(Boolean).join('/') || '-',
      endpoint.health,
      String(endpoint.weight),
    ]),
  );
}
