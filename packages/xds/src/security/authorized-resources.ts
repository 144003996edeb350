import { parseServiceKey } from '@spillway/model';
import type { ClientNode } from '../client-node.js';
import type { EncodedResource } from '../encoded-resource.js';
import type { ResourceSource } from '../resource-source.js';
import type { ResourceWatch } from '../watch-index.js';
import type { XdsGrant } from './xds-authorization.js';

/** Distinct denied names reported (logged and counted) per stream; beyond it they are only withheld. */
const MAX_REPORTED_DENIALS = 256;

/**
 * One stream's view of the resources, narrowed to the services its client may watch
 * (microsegmentation): a denied service does not exist for it. A wildcard subscription simply
 * does not list it; an explicit request for it is withheld and reported once per stream.
 * The rules govern services (`NAME.NS`, the name of all four resource types of a service); other
 * names, such as the Listener an xDS-enabled gRPC server asks for by its own address
 * (`grpc/server?xds.resource.listening_address=IP:PORT`), carry no endpoints and pass.
 */
export class AuthorizedResources implements ResourceSource {
  private readonly reported = new Set<string>();

  constructor(
    private readonly source: ResourceSource,
    private readonly grant: XdsGrant,
    private readonly onDenied: (service: string) => void,
  ) {}

  names(typeUrl: string): readonly string[] {
    return this.source.names(typeUrl).filter((name) => this.allowed(name));
  }

  resource(typeUrl: string, name: string, node: ClientNode): EncodedResource | undefined {
    if (this.allowed(name)) return this.source.resource(typeUrl, name, node);
    if (!this.reported.has(name) && this.reported.size < MAX_REPORTED_DENIALS) {
      this.reported.add(name);
      this.onDenied(name);
    }
    return undefined;
  }

  private allowed(name: string): boolean {
    return parseServiceKey(name) === undefined || this.grant.mayWatch(name);
  }

  watch(typeUrl: string, node: ClientNode, onChange: (names: ReadonlySet<string>) => void): ResourceWatch {
    return this.source.watch(typeUrl, node, onChange);
  }
}
