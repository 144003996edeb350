import type * as grpc from '@grpc/grpc-js';
import type { Environment, ServiceKey } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import type { Place } from './faults.js';
import { type EndpointIdentity, type IdentityServer, startIdentityServer } from './identity-server.js';

export interface SimEndpointSpec extends Place {
  /** The endpoint's own name: `checkout-dc1-a-0`, or a pod name. */
  readonly name: string;
  readonly service: ServiceKey;
  readonly environment: Environment;
}

/** How an endpoint's server speaks: plaintext, mesh mTLS, or mTLS from the wrong CA (a fault). */
export type EndpointTrust = 'plaintext' | 'trusted' | 'rogue';

/**
 * One simulated endpoint and its real gRPC server. The fleet says whether it should be running;
 * transitions run one at a time (a stop during a start waits for the start), and a restart binds
 * the same port so the endpoint keeps its identity in the catalog (a new port only if another
 * process took it meanwhile).
 */
export class SimEndpoint {
  readonly address = '127.0.0.1';
  private server: IdentityServer | undefined;
  private wantedState = false;
  private transitions: Promise<void> = Promise.resolve();
  private boundPort: number | undefined;

  constructor(
    readonly spec: SimEndpointSpec,
    private readonly options: {
      readonly delayMs: () => number;
      readonly onChange: () => void;
      readonly logger: Logger;
      /** Server credentials for a trust (only called for 'trusted' and 'rogue'). */
      readonly credentials?: (trust: EndpointTrust) => Promise<grpc.ServerCredentials>;
    },
  ) {}

  private wantedTrustState: EndpointTrust = 'plaintext';
  private runningTrust: EndpointTrust | undefined;

  /** The trust the last run() asked for. */
  get wantedTrust(): EndpointTrust {
    return this.wantedTrustState;
  }

  /** The port it listens on, or listened on last; undefined before the first start. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** What the last run() asked for. */
  get wanted(): boolean {
    return this.wantedState;
  }

  /** Its server accepts calls right now. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  get identity(): EndpointIdentity {
    return { cluster: this.spec.site, zone: this.spec.zone, endpoint: this.spec.name };
  }

  /**
   * Starts or stops the server (restarting it when its trust changes); resolves once this and
   * every earlier transition is done.
   */
  run(wanted: boolean, trust: EndpointTrust = this.wantedTrustState): Promise<void> {
    this.wantedState = wanted;
    this.wantedTrustState = trust;
    const next = this.transitions.then(() => this.converge());
    // A failed transition must not wedge the ones after it; the caller still sees the failure.
    this.transitions = next.catch((error: unknown) =>
      this.options.logger.error({ endpoint: this.spec.name, err: error }, 'endpoint transition failed'),
    );
    return next;
  }

  private async converge(): Promise<void> {
    if (this.server && this.runningTrust !== this.wantedTrustState) await this.stopServer();
    if (this.wantedState && !this.server) {
      const trust = this.wantedTrustState;
      this.server = await this.bind(trust);
      this.runningTrust = trust;
      this.boundPort = this.server.port;
      this.options.onChange();
    } else if (!this.wantedState && this.server) {
      await this.stopServer();
    }
  }

  private async stopServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.runningTrust = undefined;
    this.options.onChange();
    await server?.stop();
  }

  private async bind(trust: EndpointTrust): Promise<IdentityServer> {
    const credentials = trust === 'plaintext' ? undefined : await this.options.credentials?.(trust);
    const start = (port: number) =>
      startIdentityServer({
        identity: this.identity,
        port,
        delayMs: this.options.delayMs,
        ...(credentials ? { credentials } : {}),
      });
    if (this.boundPort === undefined) return start(0);
    try {
      return await start(this.boundPort);
    } catch (error) {
      this.options.logger.warn(
        { endpoint: this.spec.name, port: this.boundPort, err: error },
        'cannot rebind the endpoint port; taking a new one',
      );
      return start(0);
    }
  }
}
