import type { ClientNode } from '../client-node.js';
import type { EncodedResource } from '../encoded-resource.js';
import type { ResourceSource } from '../resource-source.js';
import type { XdsGrant } from './xds-authorization.js';

/** Distinct denied names reported (logged and counted) per stream; beyond it they are only withheld. */
const MAX_REPORTED_DENIALS = 256;

/**
 * One stream's view of the resources, narrowed to the services its client may watch
 * (microsegmentation): a denied service does not exist for it. A wildcard subscription simply
 * does not list it; an explicit request for it is withheld and reported once per stream.
 * Every resource name the router serves is a service key (`NAME.NS`), whatever its type.
 */
export class AuthorizedResources implements ResourceSource {
  private readonly reported = new Set<string>();

  constructor(
    private readonly source: ResourceSource,
    private readonly grant: XdsGrant,
    private readonly onDenied: (service: string) => void,
  ) {}

  names(typeUrl: string): readonly string[] {
    return this.source.names(typeUrl).filter((name) => this.grant.mayWatch(name));
  }

  resource(typeUrl: string, name: string, node: ClientNode): EncodedResource | undefined {
    if (this.grant.mayWatch(name)) return this.source.resource(typeUrl, name, node);
    if (!this.reported.has(name) && this.reported.size < MAX_REPORTED_DENIALS) {
      this.reported.add(name);
      this.onDenied(name);
    }
    return undefined;
  }

  onChange(listener: (names: ReadonlySet<string>) => void): () => void {
    return this.source.onChange(listener);
  }
}
