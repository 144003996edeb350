// The auth package types route roles and request.principal (Fastify module augmentation).

import {
  AbortDrillRoute,
  DRILL_BODY_LIMIT_BYTES,
  DRILL_YAML_TYPES,
  DrillIdParams,
  GetDrillRoute,
  ListDrillsQuery,
  ListDrillsRoute,
  routeOptions,
  StartDrillRoute,
} from '@spillway/api';
import type {} from '@spillway/auth';
import { ConfigError, formatPath } from '@spillway/config';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DrillFile, parseDrill } from '../drill-file.js';
import { DrillConflictError, type DrillService } from '../drill-service.js';

export interface DrillRouteOptions {
  readonly drills: DrillService;
  /** Checks against the running system (the service exists, a forced share respects maxShare); a reason refuses it. */
  readonly admit?: (drill: DrillFile) => string | undefined;
}

/**
 * `POST /v1/drills` (a drill as YAML — errors then carry line and column — or as JSON),
 * `GET /v1/drills`, `GET /v1/drills/{id}`, `POST /v1/drills/{id}/abort`.
 * Starting and aborting need `operator`; reads follow the server's rule (open on loopback).
 */
export function registerDrillRoutes(app: FastifyInstance, options: DrillRouteOptions): void {
  const { drills } = options;
  app.addContentTypeParser(
    [...DRILL_YAML_TYPES],
    { parseAs: 'string', bodyLimit: DRILL_BODY_LIMIT_BYTES },
    (_request, body, done) => done(null, body),
  );

  const startOptions = routeOptions(StartDrillRoute, { bodyLimit: DRILL_BODY_LIMIT_BYTES });
  app.post(StartDrillRoute.url, startOptions, async (request, reply) => {
    const parsed = parseBody(request.body);
    if ('problems' in parsed) {
      return sendProblem(reply, {
        title: 'Bad Request',
        status: 400,
        detail: parsed.problems.join('; '),
        problems: parsed.problems,
      });
    }
    const refused = options.admit?.(parsed.drill);
    if (refused) return sendProblem(reply, { title: 'Unprocessable Content', status: 422, detail: refused });
    try {
      const view = drills.start(parsed.drill, request.principal?.name ?? 'anonymous');
      return reply.code(202).header('location', `/v1/drills/${view.id}`).send(view);
    } catch (error) {
      if (error instanceof DrillConflictError) {
        return sendProblem(reply, { title: 'Conflict', status: 409, detail: error.message, running: error.running });
      }
      return sendProblem(reply, { title: 'Unprocessable Content', status: 422, detail: (error as Error).message });
    }
  });

  app.get(ListDrillsRoute.url, routeOptions(ListDrillsRoute), async (request, reply) => {
    const query = ListDrillsQuery.safeParse(request.query ?? {});
    if (!query.success) {
      const problems = query.error.issues.map((issue) => `${formatPath(issue.path) || 'query'}: ${issue.message}`);
      return sendProblem(reply, { title: 'Bad Request', status: 400, detail: problems.join('; '), problems });
    }
    const page = drills.page(query.data.cursor === undefined ? { limit: query.data.limit } : query.data);
    return { drills: page.drills.map(({ report: _report, ...view }) => view), next: page.next };
  });

  app.get(GetDrillRoute.url, routeOptions(GetDrillRoute), async (request, reply) => {
    const params = DrillIdParams.safeParse(request.params);
    const view = params.success ? drills.get(params.data.id) : undefined;
    return view ?? notFound(reply, request.params);
  });

  app.post(AbortDrillRoute.url, routeOptions(AbortDrillRoute), async (request, reply) => {
    const params = DrillIdParams.safeParse(request.params);
    if (!params.success) return notFound(reply, request.params);
    if (drills.abort(params.data.id)) return reply.code(202).send(drills.get(params.data.id));
    const view = drills.get(params.data.id);
    if (!view) return notFound(reply, request.params);
    return sendProblem(reply, { title: 'Conflict', status: 409, detail: `drill ${view.id} has already finished` });
  });
}

function parseBody(body: unknown): { drill: DrillFile } | { problems: string[] } {
  if (typeof body === 'string') {
    try {
      return { drill: parseDrill(body, 'request body') };
    } catch (error) {
      if (error instanceof ConfigError) return { problems: error.message.split('\n') };
      throw error;
    }
  }
  const result = DrillFile.safeParse(body ?? {});
  if (result.success) return { drill: result.data };
  return {
    problems: result.error.issues.map((issue) => `${formatPath(issue.path) || 'body'}: ${issue.message}`),
  };
}

function notFound(reply: FastifyReply, params: unknown): FastifyReply {
  const id = (params as { id?: string }).id ?? '';
  return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no drill ${id}` });
}
