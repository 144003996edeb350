import type { ClientNode } from './client-node.js';
import type { EncodedResource } from './encoded-resource.js';

/**
 * What the protocol needs from the content side (go-control-plane's ConfigWatcher, reduced):
 * which resources exist, the encoded bytes of one for one client, and a signal when some
 * services changed. Streams never build a resource; the cache never touches a stream.
 */
export interface ResourceSource {
  /** Names of every resource of `typeUrl` that exists now (what a wildcard subscription gets). */
  names(typeUrl: string): readonly string[];
  resource(typeUrl: string, name: string, node: ClientNode): EncodedResource | undefined;
  /** Calls `listener` with the resource names (service keys) whose content may have changed. */
  onChange(listener: (names: ReadonlySet<string>) => void): () => void;
}
