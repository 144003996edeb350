import { JobQueueUnavailableError } from '@spillway/jobs';
import { sendProblem } from '@spillway/observability';
import { CommandExpiredError, StateUnavailableError } from '@spillway/state';
import type { FastifyReply } from 'fastify';

/**
 * A request that needed Redis while it is away answers 503 problem+json (with Retry-After), not
 * 500: nothing is broken in the request or the server, the state store is unavailable and the
 * controller is degraded until it returns. A command that reached Redis too late (CommandExpiredError)
 * was not stored: 503 too, and it will not take effect later. Any other error is rethrown.
 */
export function unavailable(reply: FastifyReply, error: unknown): FastifyReply {
  const outage =
    error instanceof StateUnavailableError ||
    error instanceof JobQueueUnavailableError ||
    error instanceof CommandExpiredError;
  if (!outage) throw error;
  return sendProblem(reply.header('retry-after', '1'), {
    title: 'Service Unavailable',
    status: 503,
    detail: error.message,
    degraded: true,
  });
}
