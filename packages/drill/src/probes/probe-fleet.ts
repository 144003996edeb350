import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isProbeSuccess, normalisePeer } from './probe-outcome.js';
import { createXdsProbeClient, type ProbeMeshIdentity, probeNodeId } from './xds-probe-channel.js';
import { prepareXdsRelease } from './xds-release.js';

export interface ProbeLocation {
  readonly region: string;
  readonly zone: string;
}

export interface ProbeSample {
  /** `options.now()` when the RPC was sent. */
  readonly sentAtMs: number;
  readonly latencyMs: number;
  /** OK or UNIMPLEMENTED (a server was reached); see `isProbeSuccess`. */
  readonly ok: boolean;
  /** The gRPC status code (0 is OK). */
  readonly code: number;
  /** `ip:port` (`[ip]:port` for IPv6) of the endpoint that answered; absent when no endpoint was picked. */
  readonly peer?: string;
  /** Index in `options.locations` of the probe client that sent it. */
  readonly client: number;
}

export interface ProbeFleetOptions {
  /** host:port of the router's ADS server. */
  readonly xdsAddress: string;
  /** `NAME.NS`: the clients dial `xds:///NAME.NS`. */
  readonly service: string;
  /** One xDS client (own node id and locality) per location. */
  readonly locations: readonly ProbeLocation[];
  /** Total RPCs per second, spread evenly over the clients. */
  readonly ratePerSecond: number;
  /** Full method path; the request is empty bytes and the response bytes are ignored. */
  readonly method: string;
  /** Per-RPC deadline. */
  readonly timeoutMs: number;
  /** The probes' workload identity when the target is secured by mesh mTLS. */
  readonly mesh?: ProbeMeshIdentity;
  /** Node ids are `<prefix>-<index>-<random>`; default `spillway-drill-probe`. */
  readonly nodeIdPrefix?: string;
  /** Per client; a send that would exceed it is skipped and counted in `skipped`. Default 64. */
  readonly maxInFlight?: number;
  /**
   * The clock of `sentAtMs` and `readyAtMs`; default `performance.now()`. Latencies and the send
   * schedule always use `performance.now()`.
   */
  readonly now?: () => number;
}

export const DEFAULT_PROBE_MAX_IN_FLIGHT = 64;
export const DEFAULT_PROBE_NODE_ID_PREFIX = 'spillway-drill-probe';
/** How long `stop()` waits for in-flight RPCs beyond their deadline before cancelling them. */
const STOP_GRACE_MS = 250;
const EMPTY_REQUEST = Buffer.alloc(0);
const passThrough = (bytes: Buffer) => bytes;

interface PendingCall {
  call?: grpc.ClientUnaryCall;
}

interface ProbeClient {
  readonly index: number;
  readonly location: ProbeLocation;
  readonly nodeId: string;
  readonly channel: grpc.Client;
  readonly pending: Set<PendingCall>;
  /** When the next send is due, on the `performance.now()` scale. */
  nextDueMs: number;
  succeeded: boolean;
  lastFailure?: string;
}

interface ReadyWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Probe clients for a drill: one real grpc-js-xds channel per location, dialing
 * `xds:///NAME.NS` through the router, sending unary RPCs open-loop at a fixed rate and
 * recording, for every RPC, when it was sent, how it ended and which endpoint answered.
 *
 * Measuring starts when the fleet is ready: once every client has had one successful RPC
 * (before that, a channel may still be waiting for its xDS configuration). Only RPCs sent at
 * or after `readyAtMs` become samples; warm-up RPCs are not recorded, and ticks skipped during
 * warm-up are not counted. A fleet whose clients never succeed records nothing: call
 * `ready(timeoutMs)` (or use `startReady`) to find out.
 */
export class ProbeFleet {
  /** The xDS node id of each client, by location index. */
  readonly nodeIds: readonly string[];

  private readonly clients: readonly ProbeClient[];
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private readonly intervalMs: number;
  private readonly recorded: ProbeSample[] = [];
  private readonly listeners = new Set<(sample: ProbeSample) => void>();
  private readonly waiters = new Set<ReadyWaiter>();
  private timer: NodeJS.Timeout | undefined;
  private readyAt: number | undefined;
  private skippedTicks = 0;
  private sending = true;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  private constructor(private readonly options: ProbeFleetOptions) {
    validate(options);
    this.now = options.now ?? (() => performance.now());
    this.maxInFlight = options.maxInFlight ?? DEFAULT_PROBE_MAX_IN_FLIGHT;
    const count = options.locations.length;
    this.intervalMs = (1000 * count) / options.ratePerSecond;
    const prefix = options.nodeIdPrefix ?? DEFAULT_PROBE_NODE_ID_PREFIX;
    const start = performance.now();
    const clients: ProbeClient[] = [];
    try {
      for (const [index, location] of options.locations.entries()) {
        const nodeId = probeNodeId(prefix, index);
        clients.push({
          index,
          location,
          nodeId,
          channel: createXdsProbeClient(
            options.xdsAddress,
            options.service,
            { id: nodeId, locality: location },
            options.mesh,
          ),
          pending: new Set(),
          // Staggered, so that the clients' sends interleave evenly.
          nextDueMs: start + (index * this.intervalMs) / count,
          succeeded: false,
        });
      }
    } catch (error) {
      for (const client of clients) closeProbeChannel(client.channel);
      throw error;
    }
    this.clients = clients;
    this.nodeIds = clients.map((client) => client.nodeId);
    this.schedule();
  }

  /** Creates the channels and starts sending at once. Call `ready()` before measuring. */
  static start(options: ProbeFleetOptions): ProbeFleet {
    return new ProbeFleet(options);
  }

  /** `start`, then `ready(readyTimeoutMs)`; stops the fleet again if it does not get ready. */
  static async startReady(options: ProbeFleetOptions, readyTimeoutMs: number): Promise<ProbeFleet> {
    const fleet = ProbeFleet.start(options);
    try {
      await fleet.ready(readyTimeoutMs);
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** Sends skipped because a client had `maxInFlight` RPCs outstanding (after ready only). */
  get skipped(): number {
    return this.skippedTicks;
  }

  /** `options.now()` when every client had had a successful RPC; samples start here. */
  get readyAtMs(): number | undefined {
    return this.readyAt;
  }

  /** Calls `listener` with every new sample; returns the unsubscribe function. */
  onSample(listener: (sample: ProbeSample) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A copy of the samples so far, in the order the RPCs ended. */
  samples(): readonly ProbeSample[] {
    return this.recorded.slice();
  }

  /**
   * Resolves once every client has had one successful RPC (at once if that has happened).
   * Rejects after `timeoutMs` naming the service, the xDS address and the clients that have not
   * succeeded yet, or if the fleet is stopped first. Rejecting does not stop the fleet.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.readyAt !== undefined) return Promise.resolve();
    if (this.stopping) return Promise.reject(this.stoppedError());
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadyWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(this.notReadyError(timeoutMs));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Stops sending, waits for the RPCs in flight (at most `timeoutMs` plus a short grace, then
   * cancels them) and closes the channels. No sample is recorded once it has resolved.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.sending = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.stoppedError());
    }
    this.waiters.clear();
    if (this.inFlight() > 0) {
      await new Promise<void>((resolve) => {
        const bound = setTimeout(resolve, this.options.timeoutMs + STOP_GRACE_MS);
        this.drained = () => {
          clearTimeout(bound);
          resolve();
        };
      });
      this.drained = undefined;
    }
    this.closed = true;
    for (const client of this.clients) {
      for (const pending of client.pending) pending.call?.cancel();
      client.pending.clear();
      closeProbeChannel(client.channel);
    }
  }

  private inFlight(): number {
    let total = 0;
    for (const client of this.clients) total += client.pending.size;
    return total;
  }

  private schedule(): void {
    if (!this.sending) return;
    let next = Number.POSITIVE_INFINITY;
    for (const client of this.clients) next = Math.min(next, client.nextDueMs);
    const delay = Math.max(0, Math.ceil(next - performance.now()));
    this.timer = setTimeout(() => this.tick(), delay);
  }

  /**
   * Open loop: every due send goes out, whatever happened to the earlier ones. After an
   * event-loop stall the overdue sends go out at once (each with its real `sentAtMs`), capped by
   * `maxInFlight`.
   */
  private tick(): void {
    this.timer = undefined;
    if (!this.sending) return;
    const now = performance.now();
    for (const client of this.clients) {
      while (client.nextDueMs <= now) {
        client.nextDueMs += this.intervalMs;
        this.send(client);
      }
    }
    this.schedule();
  }

  private send(client: ProbeClient): void {
    if (client.pending.size >= this.maxInFlight) {
      if (this.readyAt !== undefined) this.skippedTicks++;
      return;
    }
    const sentAtMs = this.now();
    const startedAt = performance.now();
    const pending: PendingCall = {};
    client.pending.add(pending);
    try {
      pending.call = client.channel.makeUnaryRequest(
        this.options.method,
        passThrough,
        passThrough,
        EMPTY_REQUEST,
        { deadline: Date.now() + this.options.timeoutMs },
        (error) => this.finish(client, pending, sentAtMs, startedAt, error),
      );
    } catch (error) {
      // grpc-js throws only for a closed channel, which a sending fleet never has.
      client.pending.delete(pending);
      client.lastFailure = error instanceof Error ? error.message : String(error);
    }
  }

  private finish(
    client: ProbeClient,
    pending: PendingCall,
    sentAtMs: number,
    startedAt: number,
    error: grpc.ServiceError | null,
  ): void {
    if (!client.pending.delete(pending) || this.closed) return;
    const latencyMs = performance.now() - startedAt;
    const code = error ? (error.code ?? GrpcStatus.UNKNOWN) : GrpcStatus.OK;
    const ok = isProbeSuccess(code);
    if (ok) {
      if (!client.succeeded) {
        client.succeeded = true;
        this.maybeReady();
      }
    } else {
      client.lastFailure = `${GrpcStatus[code] ?? code}: ${error?.details || error?.message || 'no details'}`;
    }
    if (this.readyAt !== undefined && sentAtMs >= this.readyAt) {
      const peer = normalisePeer(pending.call?.getPeer());
      const sample: ProbeSample = {
        sentAtMs,
        latencyMs,
        ok,
        code,
        client: client.index,
        ...(peer ? { peer } : {}),
      };
      this.recorded.push(sample);
      this.emit(sample);
    }
    if (this.drained && this.inFlight() === 0) this.drained();
  }

  private maybeReady(): void {
    if (this.readyAt !== undefined || !this.clients.every((client) => client.succeeded)) return;
    this.readyAt = this.now();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.waiters.clear();
  }

  private emit(sample: ProbeSample): void {
    for (const listener of this.listeners) {
      try {
        listener(sample);
      } catch (error) {
        process.emitWarning(`a probe sample listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private describeTarget(): string {
    return `xds:///${this.options.service} via the xDS server ${this.options.xdsAddress}`;
  }

  private notReadyError(timeoutMs: number): Error {
    const waiting = this.clients
      .filter((client) => !client.succeeded)
      .map(
        (client) =>
          `client ${client.index} (${client.location.region}/${client.location.zone}, node ${client.nodeId}): ` +
          `${client.lastFailure ? `last failure ${client.lastFailure}` : 'no RPC has ended yet'}`,
      );
    return new Error(
      `probes for ${this.describeTarget()} not ready after ${timeoutMs} ms: ` +
        `${waiting.length} of ${this.clients.length} clients have had no successful RPC; ${waiting.join('; ')}`,
    );
  }

  private stoppedError(): Error {
    return new Error(`probes for ${this.describeTarget()} were stopped before they were ready`);
  }
}

/** Closes a probe channel and what grpc-js-xds would leave running for it. */
function closeProbeChannel(channel: grpc.Client): void {
  const release = prepareXdsRelease(channel);
  channel.close();
  release();
}

function validate(options: ProbeFleetOptions): void {
  const problems: string[] = [];
  if (!options.xdsAddress) problems.push('xdsAddress is empty');
  if (!options.service || options.service.includes('/')) problems.push(`service "${options.service}" is not NAME.NS`);
  if (options.locations.length === 0) problems.push('locations is empty');
  if (!(Number.isFinite(options.ratePerSecond) && options.ratePerSecond > 0)) {
    problems.push(`ratePerSecond ${options.ratePerSecond} is not a positive number`);
  }
  if (!options.method.startsWith('/'))
    problems.push(`method "${options.method}" is not a full path (/package.Service/Method)`);
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    problems.push(`timeoutMs ${options.timeoutMs} is not a positive number`);
  }
  const maxInFlight = options.maxInFlight ?? DEFAULT_PROBE_MAX_IN_FLIGHT;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1))
    problems.push(`maxInFlight ${maxInFlight} is not an integer ≥ 1`);
  if (problems.length > 0) throw new RangeError(`invalid probe fleet options: ${problems.join('; ')}`);
}
