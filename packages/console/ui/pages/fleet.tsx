import { clock } from '../format.js';
import { usePoll } from '../hooks.js';

interface SourceRow {
  name: string;
  kind: string;
  environment: string;
  region: string;
  state: 'syncing' | 'live' | 'failing' | 'stale';
  lastSyncAt: string | null;
  failingSince: string | null;
  staleSince: string | null;
  lastError: string | null;
  serviceCount: number;
  endpointCount: number;
}

interface ServiceRow {
  key: string;
  endpoints: number;
  healthy: number;
  environments: string[];
  clusters: string[];
}

/** Sites and clusters with their sources' liveness; services with where they run and how healthy. */
export function FleetPage() {
  const clusters = usePoll<{ version: number; clusters: SourceRow[] }>('/v1/clusters', 2000);
  const services = usePoll<{ version: number; services: ServiceRow[] }>('/v1/services', 2000);
  return (
    <>
      <h1>Fleet</h1>
      <section aria-labelledby="sources-heading">
        <h2 id="sources-heading">Clusters and their sources</h2>
        {clusters.error ? <p role="alert">{clusters.error}</p> : null}
        <table>
          <thead>
            <tr>
              <th scope="col">Cluster</th>
              <th scope="col">Kind</th>
              <th scope="col">Site</th>
              <th scope="col">Source</th>
              <th scope="col">Last sync</th>
              <th scope="col">Services / endpoints</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {(clusters.data?.clusters ?? []).map((source) => (
              <tr key={source.name}>
                <th scope="row">{source.name}</th>
                <td>{source.kind}</td>
                <td>
                  {source.region} ({source.environment})
                </td>
                <td class={`state ${source.state}`}>{liveness(source)}</td>
                <td>{clock(source.lastSyncAt)}</td>
                <td>
                  {source.serviceCount} / {source.endpointCount}
                </td>
                <td>{source.lastError ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="services-heading">
        <h2 id="services-heading">Services (catalog v{services.data?.version ?? '…'})</h2>
        {services.error ? <p role="alert">{services.error}</p> : null}
        <table>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Healthy / endpoints</th>
              <th scope="col">Environments</th>
              <th scope="col">Clusters</th>
            </tr>
          </thead>
          <tbody>
            {(services.data?.services ?? []).map((service) => (
              <tr key={service.key}>
                <th scope="row">
                  <a href={`#/services/${encodeURIComponent(service.key)}`}>{service.key}</a>
                </th>
                <td>
                  {service.healthy} / {service.endpoints}
                </td>
                <td>{service.environments.join(', ')}</td>
                <td>{service.clusters.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

/** live, or stale/failing with the time it has been so. */
function liveness(source: SourceRow): string {
  if (source.state === 'stale') return `stale since ${clock(source.staleSince)}`;
  if (source.state === 'failing') return `failing since ${clock(source.failingSince)}`;
  return source.state;
}
