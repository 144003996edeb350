import type { CatalogSnapshot, ServiceKey } from '@spillway/model';
import { type ListeningAddress, serverListenerName } from './server-listener-resource.js';

/**
 * Which service owns each endpoint address (`IP:PORT`), for the Listeners that xDS-enabled
 * servers ask for about their own address. Built on the first such request (a router serving
 * only clients never pays for it), then kept current from the services each catalog change
 * touches. Two services reporting one address: the lowest key owns it, so the answer does not
 * depend on report order.
 */
export class ServerAddressIndex {
  private byAddress: Map<string, Set<ServiceKey>> | undefined;
  private readonly byService = new Map<ServiceKey, readonly string[]>();

  owner(snapshot: CatalogSnapshot, where: ListeningAddress): ServiceKey | undefined {
    const owners = this.index(snapshot).get(addressKey(where.address, where.port));
    return owners && [...owners].sort()[0];
  }

  /** Re-reads `keys` from `snapshot`; returns the server Listener names whose owner may have changed. */
  update(snapshot: CatalogSnapshot, keys: readonly ServiceKey[]): string[] {
    if (!this.byAddress) return [];
    const touched = new Set<string>();
    for (const key of keys) {
      for (const address of this.byService.get(key) ?? []) {
        const owners = this.byAddress.get(address);
        owners?.delete(key);
        if (owners?.size === 0) this.byAddress.delete(address);
        touched.add(address);
      }
      this.byService.delete(key);
      const service = snapshot.services.get(key);
      if (service) for (const address of this.add(key, service.endpoints)) touched.add(address);
    }
    return [...touched].map((address) => serverListenerName(splitAddressKey(address)));
  }

  private index(snapshot: CatalogSnapshot): Map<string, Set<ServiceKey>> {
    if (!this.byAddress) {
      this.byAddress = new Map();
      for (const [key, service] of snapshot.services) this.add(key, service.endpoints);
    }
    return this.byAddress;
  }

  private add(key: ServiceKey, endpoints: readonly { address: string; port: number }[]): string[] {
    const addresses = [...new Set(endpoints.map((endpoint) => addressKey(endpoint.address, endpoint.port)))];
    for (const address of addresses) {
      let owners = this.byAddress?.get(address);
      if (!owners) {
        owners = new Set();
        this.byAddress?.set(address, owners);
      }
      owners.add(key);
    }
    this.byService.set(key, addresses);
    return addresses;
  }
}

function addressKey(address: string, port: number): string {
  return `${address}|${port}`;
}

function splitAddressKey(key: string): ListeningAddress {
  const bar = key.lastIndexOf('|');
  return { address: key.slice(0, bar), port: Number(key.slice(bar + 1)) };
}
