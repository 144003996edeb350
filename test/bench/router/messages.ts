/** IPC between the benchmark's server process and its clients process. */
import type { BenchConfig } from './scenario.js';

/** Server → clients. Every command carries a `seq` that the answers repeat. */
export type Command =
  | {
      readonly kind: 'connect';
      readonly seq: number;
      readonly config: BenchConfig;
      /** Routers to connect to: client `i` connects to `ports[i % ports.length]`. */
      readonly ports: readonly number[];
    }
  | {
      readonly kind: 'expect';
      readonly seq: number;
      /** The ClusterLoadAssignment that is about to change. */
      readonly service: string;
      /** Its new version (hash of its bytes) per client locality index. */
      readonly versions: readonly string[];
    }
  /** Wait until every stream has received at least one more response (the periodic re-send). */
  | { readonly kind: 'expect-any'; readonly seq: number }
  | { readonly kind: 'stats'; readonly seq: number }
  | { readonly kind: 'disconnect'; readonly seq: number };

export interface ClientStats {
  /** Sum of the sizes of the response messages received (protobuf payload, no gRPC/HTTP/2 framing). */
  readonly bytes: number;
  readonly responses: number;
  readonly rssBytes: number;
  readonly maxRssBytes: number;
  readonly cpuMicros: number;
}

/** Clients → server. */
export type Reply =
  /** `connect`: every client holds its whole subscription; `at` is the epoch time in ms (fractional). */
  | { readonly kind: 'ready'; readonly seq: number; readonly at: number; readonly connectErrors: number }
  /** `expect`: armed, the server may make the change now. */
  | { readonly kind: 'armed'; readonly seq: number; readonly targets: number }
  /** `expect`: the last target client received the expected version at `at`. */
  | { readonly kind: 'reached'; readonly seq: number; readonly at: number; readonly responses: number }
  | { readonly kind: 'stats'; readonly seq: number; readonly stats: ClientStats }
  | { readonly kind: 'disconnected'; readonly seq: number }
  | { readonly kind: 'failed'; readonly seq: number; readonly error: string };

/** Epoch milliseconds with sub-millisecond resolution, comparable between the two processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
