import * as grpc from '@grpc/grpc-js';
import { lrsServiceDefinition } from '../../src/index.js';

/** A LoadStatsResponse as decoded (uint64 durations as strings). */
export interface LrsResponse {
  readonly clusters: string[];
  readonly send_all_clusters: boolean;
  readonly load_reporting_interval: { seconds: string; nanos: number };
}

/**
 * A raw LRS client for protocol tests: sends hand-made (and bad) LoadStatsRequests over a plain
 * @grpc/grpc-js stream, and keeps every response and the final status.
 */
export class LrsTestClient {
  readonly responses: LrsResponse[] = [];
  /** How the stream ended (its gRPC status), once it has. */
  readonly ended: Promise<grpc.StatusObject>;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<object, LrsResponse>;

  constructor(port: number, credentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, credentials);
    const method = lrsServiceDefinition().StreamLoadStats!;
    this.call = this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize as (value: object) => Buffer,
      method.responseDeserialize as (bytes: Buffer) => LrsResponse,
    );
    this.call.on('data', (response: LrsResponse) => this.responses.push(response));
    this.call.on('error', () => {});
    this.ended = new Promise((resolve) => this.call.on('status', resolve));
  }

  send(request: object): void {
    this.call.write(request);
  }

  close(): void {
    this.call.end();
    this.call.cancel();
    this.client.close();
  }
}

/** One locality's counts as a client would report them. */
export function localityStats(
  locality: { region: string; zone: string; sub_zone?: string },
  successful: number,
  errors = 0,
) {
  return {
    locality: { sub_zone: '', ...locality },
    total_successful_requests: successful,
    total_error_requests: errors,
    total_requests_in_progress: 0,
    total_issued_requests: successful + errors,
  };
}
