import type { Role } from '@spillway/config';
import type { z } from 'zod';
import { Problem } from './problem.js';

/** What a request needs to be let in (packages/auth enforces it; the document shows it). */
export type RouteAccess =
  /** Probes and scrapers (/healthz, /readyz, /metrics): never a token. */
  | 'public'
  /** A read: open without a token on loopback (`openReads`), else role `viewer`. */
  | 'read'
  /** A bearer token with this role (or a higher one). */
  | Role;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One response of a route: a JSON body (or `contentType`'s) described by `schema`. */
export interface ResponseSpec {
  readonly description: string;
  /** Absent: a body not described by a schema (e.g. Prometheus text). */
  readonly schema?: z.ZodType;
  readonly contentType?: string;
  /** Response headers worth knowing: name → what it says. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A route's contract: the one place its request and response shapes, its access and its errors
 * are written. The handler parses with `params`/`query`/`body`; `GET /openapi.json` is made from
 * the same objects, so the document cannot drift from what the server checks.
 */
export interface RouteContract {
  readonly method: HttpMethod;
  /** Fastify's pattern: `/v1/bursts/:id`. */
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The service whose API it belongs to (federation, controller, router, drills, operations). */
  readonly tag: string;
  readonly access: RouteAccess;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The body may be left out (its defaults apply). */
  readonly bodyOptional?: boolean;
  /** Media types the body may come as (default `application/json`). */
  readonly bodyTypes?: readonly string[];
  /** Every answer the route itself gives; the common ones (401, 403, 413, …) are added from `access` and `body`. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

export function defineRoute<const C extends RouteContract>(contract: C): C {
  return contract;
}

/** Whether a value is a route contract (to collect them from a module's exports). */
export function isRouteContract(value: unknown): value is RouteContract {
  return (
    typeof value === 'object' && value !== null && 'operationId' in value && 'responses' in value && 'url' in value
  );
}

/** A JSON answer. */
export function json(schema: z.ZodType, description: string, headers?: Record<string, string>): ResponseSpec {
  return { description, schema, contentType: 'application/json', ...(headers ? { headers } : {}) };
}

/** An error answer: RFC 9457 problem+json, `description` says when it happens. */
export function problem(description: string, headers?: Record<string, string>): ResponseSpec {
  return { description, schema: Problem, contentType: 'application/problem+json', ...(headers ? { headers } : {}) };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's contract (packages/api): what GET /openapi.json documents. */
    api?: RouteContract;
    /** The role a route needs (packages/auth enforces it). */
    role?: Role;
    /** Open to anyone (packages/auth): set by routeOptions for access `public`. */
    public?: boolean;
  }
}

/**
 * The Fastify route options of a contract: its role for the auth hook and the contract itself
 * for the document. `app.post(Contract.url, routeOptions(Contract), handler)`.
 */
export function routeOptions(contract: RouteContract, options: { bodyLimit?: number } = {}) {
  const role = contract.access === 'public' || contract.access === 'read' ? undefined : contract.access;
  // `public` tells the auth hook the route is open like /healthz, also where reads need a token.
  const config: { api: RouteContract; role?: Role; public?: boolean } = { api: contract };
  if (role) config.role = role;
  if (contract.access === 'public') config.public = true;
  return { ...options, config };
}
