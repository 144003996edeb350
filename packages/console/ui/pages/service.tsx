import { percent } from '../format.js';
import { usePoll } from '../hooks.js';

interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

interface Endpoint {
  address: string;
  port: number;
  cluster: string;
  environment: string;
  locality: Locality;
  health: string;
  weight: number;
}

interface EdsViews {
  policyShare: number;
  views: {
    client: { locality: Locality; environment: string };
    cloudShare: number;
    priorities: {
      priority: number;
      localities: {
        locality: Locality;
        environment: string;
        weight: number;
        endpoints: { address: string; port: number; health: string; weight: number }[];
      }[];
    }[];
  }[];
}

const place = (locality: Locality) =>
  [locality.region, locality.zone, locality.subZone].filter(Boolean).join('/') || '(none)';

/** One service: endpoints by locality and health, the EDS each client locality gets now, its burst policy. */
export function ServicePage(props: { serviceKey: string | undefined; showBursts: boolean }) {
  const services = usePoll<{ services: { key: string }[] }>(props.serviceKey ? null : '/v1/services', 0);
  if (!props.serviceKey) {
    return (
      <>
        <h1>Services</h1>
        {services.error ? <p role="alert">{services.error}</p> : null}
        <ul>
          {(services.data?.services ?? []).map((service) => (
            <li key={service.key}>
              <a href={`#/services/${encodeURIComponent(service.key)}`}>{service.key}</a>
            </li>
          ))}
        </ul>
      </>
    );
  }
  return <ServiceDetail serviceKey={props.serviceKey} showBursts={props.showBursts} />;
}

function ServiceDetail(props: { serviceKey: string; showBursts: boolean }) {
  const [name = '', namespace = ''] = props.serviceKey.split('.');
  const base = `/v1/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  const service = usePoll<{ version: number; endpoints: Endpoint[] }>(base, 2000);
  const eds = usePoll<EdsViews>(`${base}/eds`, 2000);
  const policies = usePoll<{ policies: { service: string; [field: string]: unknown }[] }>(
    props.showBursts ? '/v1/burst-policies' : null,
    0,
  );
  const policy = policies.data?.policies.find((entry) => entry.service === props.serviceKey);
  const byLocality = new Map<string, Endpoint[]>();
  for (const endpoint of service.data?.endpoints ?? []) {
    const key = `${endpoint.environment} ${place(endpoint.locality)}`;
    byLocality.set(key, [...(byLocality.get(key) ?? []), endpoint]);
  }
  return (
    <>
      <p>
        <a href="#/fleet">Fleet</a>
      </p>
      <h1>Service {props.serviceKey}</h1>
      {service.error ? <p role="alert">{service.error}</p> : null}
      <section aria-labelledby="endpoints-heading">
        <h2 id="endpoints-heading">Endpoints by locality</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Locality</th>
              <th scope="col">Healthy / total</th>
              <th scope="col">Endpoints</th>
            </tr>
          </thead>
          <tbody>
            {[...byLocality].sort().map(([key, endpoints]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td>
                  {endpoints.filter((endpoint) => endpoint.health === 'healthy').length} / {endpoints.length}
                </td>
                <td>
                  <ul class="plain">
                    {endpoints.map((endpoint) => (
                      <li key={`${endpoint.address}:${endpoint.port}`} class={`health ${endpoint.health}`}>
                        {endpoint.address}:{endpoint.port} {endpoint.health} (cluster {endpoint.cluster}, weight{' '}
                        {endpoint.weight})
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="eds-heading">
        <h2 id="eds-heading">What each client locality gets (EDS)</h2>
        {eds.error ? <p role="alert">{eds.error}</p> : null}
        {eds.data ? <p>Cloud share in the served traffic policy: {percent(eds.data.policyShare)}</p> : null}
        {(eds.data?.views ?? []).map((view) => (
          <table key={`${view.client.environment} ${place(view.client.locality)}`}>
            <caption>
              Client in {place(view.client.locality)} ({view.client.environment}); cloud share realised{' '}
              {percent(view.cloudShare)}
            </caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">Locality</th>
                <th scope="col">Weight</th>
                <th scope="col">Endpoints</th>
              </tr>
            </thead>
            <tbody>
              {view.priorities.flatMap((level) =>
                level.localities.map((locality) => (
                  <tr key={`${level.priority} ${place(locality.locality)}`}>
                    <td>{level.priority}</td>
                    <th scope="row">
                      {place(locality.locality)} ({locality.environment})
                    </th>
                    <td>{locality.weight}</td>
                    <td>
                      {locality.endpoints
                        .map((endpoint) => `${endpoint.address}:${endpoint.port} ${endpoint.health}`)
                        .join(', ')}
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        ))}
      </section>
      {props.showBursts ? (
        <section aria-labelledby="policy-heading">
          <h2 id="policy-heading">Burst policy</h2>
          {policy ? <pre>{JSON.stringify(policy, null, 2)}</pre> : <p>No burst policy for this service.</p>}
        </section>
      ) : null}
    </>
  );
}
