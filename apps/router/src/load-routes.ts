import { LoadQuery, LoadRoute, routeOptions } from '@spillway/api';
import type { MeasuredLoad } from '@spillway/model';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance } from 'fastify';

/** What the route reads: the router's measured load, or undefined when load reporting is off. */
export interface LoadSource {
  measuredLoad(service: string, windowSeconds: number): MeasuredLoad | undefined;
  /** Whether the catalog has the service (an unknown one is a 404, not an empty answer). */
  hasService(service: string): boolean;
}

/**
 * `GET /v1/load?service=NAME.NS&windowSeconds=W`: what the clients reported over LRS for the
 * service in the last W seconds (1–600, default 60), per locality, and the measured cloud share.
 */
export function registerLoadRoutes(app: FastifyInstance, source: () => LoadSource | undefined): void {
  app.get(LoadRoute.url, routeOptions(LoadRoute), async (request, reply) => {
    const query = LoadQuery.safeParse(request.query);
    if (!query.success) {
      const detail = query.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`);
      return sendProblem(reply, { title: 'Bad Request', status: 400, detail: detail.join('; ') });
    }
    const { service, windowSeconds } = query.data;
    const load = source();
    const measured = load?.measuredLoad(service, windowSeconds);
    if (!load || !measured) {
      return sendProblem(reply, {
        title: 'Not Found',
        status: 404,
        detail: 'load reporting is off (loadReporting.enabled: false): clients send no load reports',
      });
    }
    if (!load.hasService(service) && measured.localities.length === 0) {
      return sendProblem(reply, {
        title: 'Not Found',
        status: 404,
        detail: `service: ${service} is not in the catalog`,
      });
    }
    return measured;
  });
}
