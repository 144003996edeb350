import { JobQueueUnavailableError } from '@spillway/jobs';
import { sendProblem } from '@spillway/observability';
import { StateUnavailableError } from '@spillway/state';
import type { FastifyReply } from 'fastify';

/**
 * A request that needed Redis while it is away answers 503 problem+json (with Retry-After), not
 * 500: nothing is broken in the request or the server, the state store is unavailable and the
 * controller is degraded until it returns. Any other error is rethrown to the problem handler.
 */
export function unavailable(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof StateUnavailableError || error instanceof JobQueueUnavailableError)) throw error;
  return sendProblem(reply.header('retry-after', '1'), {
    title: 'Service Unavailable',
    status: 503,
    detail: error.message,
    degraded: true,
  });
}
