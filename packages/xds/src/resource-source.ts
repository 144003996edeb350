import type { ClientNode } from './client-node.js';
import type { EncodedResource } from './encoded-resource.js';
import type { ResourceWatch } from './watch-index.js';

/**
 * What the protocol needs from the content side (go-control-plane's ConfigWatcher, reduced):
 * which resources exist, the encoded bytes of one for one client, and watches that hear when
 * some of the resources they cover changed. Streams never build a resource; the cache never
 * touches a stream.
 */
export interface ResourceSource {
  /** Names of every resource of `typeUrl` that exists now (what a wildcard subscription gets). */
  names(typeUrl: string): readonly string[];
  resource(typeUrl: string, name: string, node: ClientNode): EncodedResource | undefined;
  /**
   * Opens a watch on resources of `typeUrl` as `node` sees them: `onChange` gets the names it
   * covers (every changed name for a wildcard) whose content may have changed. The caller
   * keeps it in step with its subscription and cancels it when done.
   */
  watch(typeUrl: string, node: ClientNode, onChange: (names: ReadonlySet<string>) => void): ResourceWatch;
}
