import { buildConfig } from './load.js';
import type { SpillwayConfig } from './schema.js';

/**
 * The embedded default: one static on-prem site with two zones and a cloud region, so a
 * newcomer sees a catalog with nothing else installed.
 */
export function embeddedDefaultConfig(): SpillwayConfig {
  return buildConfig(
    {
      clusters: [
        {
          name: 'lab',
          kind: 'static',
          environment: 'onprem',
          region: 'lab',
          services: [
            {
              name: 'echo',
              namespace: 'demo',
              endpoints: [
                { address: '127.0.0.1', port: 50051, zone: 'lab-a' },
                { address: '127.0.0.1', port: 50052, zone: 'lab-b' },
              ],
            },
            {
              name: 'checkout',
              namespace: 'shop',
              endpoints: [
                { address: '127.0.0.1', port: 50061, zone: 'lab-a' },
                { address: '127.0.0.1', port: 50062, zone: 'lab-b', health: 'draining' },
              ],
            },
          ],
        },
        {
          name: 'cloud',
          kind: 'static',
          environment: 'cloud',
          region: 'us-east-1',
          services: [
            {
              name: 'echo',
              namespace: 'demo',
              endpoints: [{ address: '127.0.0.1', port: 50151, zone: 'us-east-1a' }],
            },
          ],
        },
      ],
    },
    '<embedded default>',
  );
}
