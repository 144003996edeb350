// The auth package types route roles and request.principal (Fastify module augmentation).

import {
  AbortBurstRequest,
  AbortBurstRoute,
  type ControllerStatus,
  ControllerStatusRoute,
  GetBurstRoute,
  GetBurstTimelineRoute,
  ListAuditQuery,
  ListAuditRoute,
  ListBurstPoliciesRoute,
  ListBurstsQuery,
  ListBurstsRoute,
  routeOptions,
  StartBurstRequest,
  StartBurstRoute,
} from '@spillway/api';
import type {} from '@spillway/auth';
import { type ReadinessCheck, sendProblem } from '@spillway/observability';
import { type AuditLog, type BurstRecords, InvalidCursorError } from '@spillway/state';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { BurstController, MeasuredShareView } from '../burst-controller.js';
import { burstTimeline } from './burst-timeline.js';
import { unavailable } from './unavailable.js';

/** How far back a burst's history is looked for: a burst's own entries start around its creation. */
const HISTORY_SLACK_MS = 60_000;

/**
 * The operators' burst API (contracts in packages/api). Mutations need `operator`; the auth hook enforces the route's role.
 * While the state store is unreachable, what needs it answers 503 problem+json (see unavailable)
 * and `GET /v1/controller` says degraded.
 */
export function registerBurstRoutes(
  app: FastifyInstance,
  deps: { controller: BurstController; bursts: BurstRecords; audit: AuditLog; health?: ReadinessCheck },
): void {
  const { controller, bursts, audit, health } = deps;

  app.post(StartBurstRoute.url, routeOptions(StartBurstRoute), async (request, reply) => {
    const body = StartBurstRequest.safeParse(request.body);
    if (!body.success) return invalid(reply, body.error);
    const policy = controller.policy(body.data.service);
    if (!policy) {
      return sendProblem(reply, {
        title: 'Unprocessable Content',
        status: 422,
        detail: `no burst policy for ${body.data.service}; add one under policies: in the config`,
      });
    }
    if (body.data.share > policy.maxShare) {
      return sendProblem(reply, {
        title: 'Unprocessable Content',
        status: 422,
        detail: `share ${body.data.share} is above the policy's maxShare ${policy.maxShare} for ${policy.service}`,
      });
    }
    const actor = request.principal?.name ?? 'anonymous';
    let id: string;
    try {
      id = await controller.requestBurst({ ...body.data, actor });
    } catch (error) {
      return unavailable(reply, error);
    }
    return reply
      .code(202)
      .header('Location', `/v1/bursts/${id}`)
      .send({ id, service: body.data.service, state: 'requested', links: { self: `/v1/bursts/${id}` } });
  });

  app.get(ListBurstsRoute.url, routeOptions(ListBurstsRoute), async (request, reply) => {
    const query = ListBurstsQuery.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    try {
      const page = await bursts.page(query.data);
      return { bursts: page.bursts, next: page.next, degraded: controller.lastError };
    } catch (error) {
      if (error instanceof InvalidCursorError) return badCursor(reply, error);
      return unavailable(reply, error);
    }
  });

  app.get<{ Params: { id: string } }>(GetBurstRoute.url, routeOptions(GetBurstRoute), async (request, reply) => {
    try {
      const burst = await bursts.get(request.params.id);
      if (!burst) return notFound(reply, request.params.id);
      const since = new Date(Date.parse(burst.createdAt) - HISTORY_SLACK_MS).toISOString();
      const history = await audit.page({ burstId: burst.id, since, limit: 500, maxScan: 50_000 });
      return {
        ...burst,
        ...(burst.active ? await measuredNextToPublished(controller, burst.service) : { measured: null }),
        history: history.entries.reverse(),
        degraded: controller.lastError,
      };
    } catch (error) {
      return unavailable(reply, error);
    }
  });

  // The phase and share history the console charts (see burst-timeline.ts).
  app.get<{ Params: { id: string } }>(
    GetBurstTimelineRoute.url,
    routeOptions(GetBurstTimelineRoute),
    async (request, reply) => {
      try {
        const burst = await bursts.get(request.params.id);
        if (!burst) return notFound(reply, request.params.id);
        const since = new Date(Date.parse(burst.createdAt) - HISTORY_SLACK_MS).toISOString();
        const decisions = await audit.page({
          burstId: burst.id,
          since,
          classes: ['decision'],
          limit: 1000,
          maxScan: 50_000,
        });
        return burstTimeline(burst, decisions.entries.reverse(), decisions.next !== null);
      } catch (error) {
        return unavailable(reply, error);
      }
    },
  );

  app.get(ListBurstPoliciesRoute.url, routeOptions(ListBurstPoliciesRoute), async () => ({
    policies: controller.burstPolicies(),
    forecasts: controller.latestForecasts(),
  }));

  app.post<{ Params: { id: string } }>(AbortBurstRoute.url, routeOptions(AbortBurstRoute), async (request, reply) => {
    const body = AbortBurstRequest.safeParse(request.body ?? {});
    if (!body.success) return invalid(reply, body.error);
    try {
      const burst = await bursts.get(request.params.id);
      if (!burst) return notFound(reply, request.params.id);
      if (!burst.active) {
        return sendProblem(reply, { title: 'Conflict', status: 409, detail: `burst ${burst.id} has already ended` });
      }
      const actor = request.principal?.name ?? 'anonymous';
      await controller.requestAbort(burst.service, burst.id, body.data.reason, actor);
      return reply.code(202).send({ id: burst.id, service: burst.service, state: 'abort-requested' });
    } catch (error) {
      return unavailable(reply, error);
    }
  });

  app.get(ListAuditRoute.url, routeOptions(ListAuditRoute), async (request, reply) => {
    const query = ListAuditQuery.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    const { class: classes, ...rest } = query.data;
    try {
      return await audit.page({ ...rest, ...(classes ? { classes } : {}) });
    } catch (error) {
      if (error instanceof InvalidCursorError) return badCursor(reply, error);
      return unavailable(reply, error);
    }
  });

  // Answers from memory, so it works while the store is away: that is when it matters most.
  app.get(ControllerStatusRoute.url, routeOptions(ControllerStatusRoute), async () => {
    const store = health ? { name: health.name, ...health.check() } : null;
    return {
      owner: controller.owner,
      leader: controller.isLeader(),
      degraded: controller.lastError !== null || store?.ready === false,
      lastError: controller.lastError,
      store,
    } satisfies ControllerStatus;
  });
}

/**
 * The share the clients report next to the one the router publishes, for a running burst. A
 * router that cannot be asked does not fail the request: `measuredError` says why.
 */
async function measuredNextToPublished(
  controller: BurstController,
  service: string,
): Promise<{ measured: MeasuredShareView | null; measuredError?: string }> {
  try {
    return { measured: await controller.measuredShareOf(service) };
  } catch (error) {
    return { measured: null, measuredError: error instanceof Error ? error.message : String(error) };
  }
}

export function invalid(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return sendProblem(reply, {
    title: 'Bad Request',
    status: 400,
    detail: error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
  });
}

function badCursor(reply: FastifyReply, error: InvalidCursorError): FastifyReply {
  return sendProblem(reply, { title: 'Bad Request', status: 400, detail: `cursor: ${error.message}` });
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no burst ${id}` });
}
