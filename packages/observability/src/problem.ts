import type { FastifyInstance, FastifyReply } from 'fastify';

/** RFC 9457 problem details: every API error has this shape. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', ...problem });
}

/**
 * Turns Fastify's own errors (bad JSON, body too large, unknown route) and anything thrown
 * into problem+json, so a client never sees an HTML page or a stack trace.
 */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { title: 'Not Found', status: 404, detail: `no route for ${request.method} ${request.url}` }),
  );
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, {
      title: status >= 500 ? 'Internal Server Error' : titleFor(status),
      status,
      detail: status >= 500 ? 'the server failed to handle the request; see its log' : error.message,
      ...(error.code ? { code: error.code } : {}),
    });
  });
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
  };
  return titles[status] ?? 'Error';
}
