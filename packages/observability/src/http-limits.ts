/**
 * What one client may hold of an HTTP server, the same for every Spillway app (federation,
 * router, controller, the embedded `spillway up`, and the drill routes they carry). TLS options
 * are separate: spread both into `Fastify({...})`.
 */
export interface HttpLimits {
  /** Whole request (headers and body) received within this, else 408 and the connection closes. */
  readonly requestTimeoutMs: number;
  /** Headers received within this (slowloris). At most requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  /** An idle socket is closed after this: longer than the longest long-poll (the change feed waits 300 s at most). */
  readonly connectionTimeoutMs: number;
  /** An idle keep-alive connection between requests is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Default body limit of every route (413 beyond it); routes may lower it. */
  readonly bodyLimitBytes: number;
  /** How often Node checks the request and headers timeouts (its default, 30 s, makes them late by as much). */
  readonly timeoutCheckIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  connectionTimeoutMs: 330_000,
  keepAliveTimeoutMs: 30_000,
  bodyLimitBytes: 1024 * 1024,
  timeoutCheckIntervalMs: 1_000,
};

/** The Fastify server options for these limits: `Fastify({ ...httpServerOptions(), loggerInstance })`. */
export function httpServerOptions(limits: Partial<HttpLimits> = {}) {
  const { requestTimeoutMs, connectionTimeoutMs, keepAliveTimeoutMs, bodyLimitBytes } = {
    ...DEFAULT_HTTP_LIMITS,
    ...limits,
  };
  return {
    requestTimeout: requestTimeoutMs,
    connectionTimeout: connectionTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    bodyLimit: bodyLimitBytes,
  } as const;
}

/** The Node server's knobs (HTTP or HTTPS alike); `connectionsCheckingInterval` is not in @types/node. */
interface NodeHttpServer {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  listening: boolean;
  setTimeout(ms: number): unknown;
}

/**
 * Sets every timeout on the app's Node server. Fastify sets some of them from its options, but
 * not on a server from `serverFactory` (the HTTPS server), and has no option for the headers
 * timeout or for how often Node enforces it. Call it on the new app, before `listen`; returns the app.
 */
export function enforceHttpLimits<App extends { server: NodeHttpServer }>(
  app: App,
  limits: Partial<HttpLimits> = {},
): App {
  const all = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const server = app.server;
  if (server.listening) throw new Error('enforceHttpLimits: call it before the server listens');
  server.requestTimeout = all.requestTimeoutMs;
  server.headersTimeout = Math.min(all.headersTimeoutMs, all.requestTimeoutMs);
  server.keepAliveTimeout = all.keepAliveTimeoutMs;
  server.setTimeout(all.connectionTimeoutMs);
  // Read by Node when the server starts listening.
  (server as NodeHttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    all.timeoutCheckIntervalMs;
  return app;
}
