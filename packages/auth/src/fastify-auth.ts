import type { Role } from '@spillway/config';
import { type Problem, sendProblem } from '@spillway/observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hostHeaderIsLoopback } from './loopback.js';
import { type Principal, roleAllows, type TokenAuthenticator } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs. Routes without one are reads: open when reads are open. */
    role?: Role;
    /**
     * Open to anyone who may reach the server, like /healthz: only for what carries no data
     * (the console's static files; the console then asks the API with the user's token).
     */
    public?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** A refused request, as `onDenied` hears of it. */
export interface Denial {
  readonly status: 401 | 403;
  readonly reason: 'missing-token' | 'unknown-token' | 'missing-role';
  /** The token's name when the token is known (a 403). */
  readonly principal?: string;
  readonly remoteAddress: string;
  readonly method: string;
  /** The route's pattern (`/v1/bursts/:id`), never the raw URL: `(unmatched)` when no route matched. */
  readonly route: string;
  readonly detail: string;
}

export interface AuthOptions {
  readonly authenticator: TokenAuthenticator;
  /** Serve reads without a token (the default on loopback). */
  readonly openReads: boolean;
  /** Hears of every refused request (to audit it); it must not throw and must bound what it keeps. */
  readonly onDenied?: (denial: Denial) => void;
}

/**
 * Every route declares the role it needs in its config; this hook enforces it. Missing or
 * unknown token → 401, known token without the role → 403, both as problem+json. Operational
 * routes (/healthz, /readyz, /metrics) stay open for probes and scrapers.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    // Open reads are for this machine only: a browser led here by DNS rebinding names another host.
    if (options.openReads && !hostHeaderIsLoopback(request.headers.host)) {
      return refuse(reply, {
        title: 'Misdirected Request',
        status: 421,
        detail: `this server answers loopback names only (localhost, 127.0.0.1, [::1]), not Host "${request.headers.host}"`,
      });
    }
    const needed = requiredRole(request, options.openReads);
    const principal = options.authenticator.authenticate(request.headers.authorization);
    if (principal) request.principal = principal;
    if (!needed) return;
    if (!principal) {
      const presented = Boolean(request.headers.authorization);
      const detail = presented ? 'the bearer token is not known' : 'this request needs a bearer token';
      options.onDenied?.(denial(request, 401, presented ? 'unknown-token' : 'missing-token', detail));
      reply.header('WWW-Authenticate', 'Bearer realm="spillway"');
      return refuse(reply, { title: 'Unauthorized', status: 401, detail });
    }
    if (!roleAllows(principal.role, needed)) {
      const detail = `token "${principal.name}" has role ${principal.role}; this request needs ${needed}`;
      options.onDenied?.({ ...denial(request, 403, 'missing-role', detail), principal: principal.name });
      return refuse(reply, { title: 'Forbidden', status: 403, detail });
    }
  });
}

/**
 * Refused in onRequest, before the body is read: closing the connection after the answer stops
 * Node from reading (and the client from trickling) a body nobody will use.
 */
function refuse(reply: FastifyReply, problem: Problem): FastifyReply {
  return sendProblem(reply.header('connection', 'close'), problem);
}

function denial(request: FastifyRequest, status: 401 | 403, reason: Denial['reason'], detail: string): Denial {
  return {
    status,
    reason,
    remoteAddress: request.ip,
    method: request.method,
    route: request.routeOptions.url ?? '(unmatched)',
    detail,
  };
}

const OPERATIONAL = new Set(['/healthz', '/readyz', '/metrics']);

function requiredRole(request: FastifyRequest, openReads: boolean): Role | undefined {
  const declared = request.routeOptions.config?.role;
  if (declared) return declared;
  if (OPERATIONAL.has(request.routeOptions.url ?? '')) return undefined;
  if (request.routeOptions.config?.public && (request.method === 'GET' || request.method === 'HEAD')) return undefined;
  if (request.method === 'GET' || request.method === 'HEAD') return openReads ? undefined : 'viewer';
  // A mutation nobody gave a role to is an admin's: never an open door by omission.
  return 'admin';
}
