import { clock } from '../format.js';
import { usePoll } from '../hooks.js';

interface Nack {
  at: string;
  typeUrl: string;
  rejectedVersion: string;
  keptVersion: string;
  detail: string;
}

interface XdsClient {
  nodeId: string;
  identity: string | null;
  cluster: string;
  locality: { region: string; zone: string; subZone?: string };
  environment: string | null;
  kind: string;
  userAgent: string;
  protocol: string;
  connectedSince: string;
  resources: Record<
    string,
    { subscribed: string[]; ackedVersion: string | null; lastSentVersion: string | null; lastNack: Nack | null }
  >;
  lastNack: Nack | null;
}

/** Like `istioctl proxy-status`: every connected client, what it was sent and what it acknowledged. */
export function XdsClientsPage() {
  const clients = usePoll<{ clients: XdsClient[] }>('/v1/xds/clients', 2000);
  const list = clients.data?.clients ?? [];
  return (
    <>
      <h1>xDS clients</h1>
      {clients.error ? <p role="alert">{clients.error}</p> : null}
      {clients.data && list.length === 0 ? <p>No xDS client is connected.</p> : null}
      {list.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Locality</th>
              <th scope="col">Identity</th>
              <th scope="col">Client</th>
              <th scope="col">Type: acked / sent</th>
              <th scope="col">Last NACK</th>
            </tr>
          </thead>
          <tbody>
            {list.map((client, index) => (
              <tr key={`${client.nodeId}-${index}`}>
                <th scope="row">{client.nodeId}</th>
                <td>
                  {[client.locality.region, client.locality.zone, client.locality.subZone].filter(Boolean).join('/')}
                  {client.environment ? ` (${client.environment})` : ''}
                </td>
                <td>{client.identity ?? 'plaintext'}</td>
                <td>
                  {client.kind} {client.protocol}, since {clock(client.connectedSince)}
                </td>
                <td>
                  <ul class="plain">
                    {Object.entries(client.resources).map(([type, info]) => (
                      <li key={type} class={info.ackedVersion === info.lastSentVersion ? 'synced' : 'stale'}>
                        {type}: {info.ackedVersion ?? '–'} / {info.lastSentVersion ?? '–'}
                        {info.ackedVersion === info.lastSentVersion ? ' (synced)' : ' (not acked)'}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{client.lastNack ? nackText(client.lastNack) : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function nackText(nack: Nack): string {
  const type = nack.typeUrl.split('.').pop();
  return `${clock(nack.at)} ${type} version ${nack.rejectedVersion} rejected (keeps ${nack.keptVersion}): ${nack.detail}`;
}
