// The auth package types route roles and request.principal (Fastify module augmentation).
import type {} from '@spillway/auth';
import { PrintableText } from '@spillway/model';
import { type ReadinessCheck, sendProblem } from '@spillway/observability';
import type { AuditLog, BurstRecords } from '@spillway/state';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { BurstController } from '../burst-controller.js';
import { unavailable } from './unavailable.js';

const ServiceKey = z.string().regex(/^[a-z0-9-_]+\.[a-z0-9-_]+$/, 'expected NAME.NS');

const StartBurst = z.strictObject({
  service: ServiceKey,
  share: z.number().gt(0).max(1),
  // Reasons are shown again (audit log, CLI tables): printable text only.
  reason: PrintableText.trim().min(1, 'say why (it goes to the audit log)').max(500),
  steps: z.array(z.number().gt(0).max(1)).min(1).max(20).optional(),
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
});

const AbortBurst = z.strictObject({ reason: PrintableText.trim().min(1).max(500).default('aborted by an operator') });

const ListBursts = z.strictObject({
  service: ServiceKey.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const ListAudit = z.strictObject({
  service: ServiceKey.optional(),
  burstId: z.string().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

/**
 * The operators' burst API. Mutations need `operator`; the auth hook enforces the route's role.
 * While the state store is unreachable, what needs it answers 503 problem+json (see unavailable)
 * and `GET /v1/controller` says degraded.
 */
export function registerBurstRoutes(
  app: FastifyInstance,
  deps: { controller: BurstController; bursts: BurstRecords; audit: AuditLog; health?: ReadinessCheck },
): void {
  const { controller, bursts, audit, health } = deps;

  app.post('/v1/bursts', { config: { role: 'operator' } }, async (request, reply) => {
    const body = StartBurst.safeParse(request.body);
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

  app.get('/v1/bursts', async (request, reply) => {
    const query = ListBursts.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    try {
      return { bursts: await bursts.list(query.data), degraded: controller.lastError };
    } catch (error) {
      return unavailable(reply, error);
    }
  });

  app.get<{ Params: { id: string } }>('/v1/bursts/:id', async (request, reply) => {
    try {
      const burst = await bursts.get(request.params.id);
      if (!burst) return notFound(reply, request.params.id);
      const history = await audit.list({ burstId: burst.id, limit: 500 });
      return { ...burst, history: history.reverse(), degraded: controller.lastError };
    } catch (error) {
      return unavailable(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>(
    '/v1/bursts/:id/abort',
    { config: { role: 'operator' } },
    async (request, reply) => {
      const body = AbortBurst.safeParse(request.body ?? {});
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
    },
  );

  app.get('/v1/audit', async (request, reply) => {
    const query = ListAudit.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    try {
      return { entries: await audit.list(query.data) };
    } catch (error) {
      return unavailable(reply, error);
    }
  });

  // Answers from memory, so it works while the store is away: that is when it matters most.
  app.get('/v1/controller', async () => {
    const store = health ? { name: health.name, ...health.check() } : null;
    return {
      owner: controller.owner,
      leader: controller.isLeader(),
      degraded: controller.lastError !== null || store?.ready === false,
      lastError: controller.lastError,
      store,
    };
  });
}

export function invalid(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return sendProblem(reply, {
    title: 'Bad Request',
    status: 400,
    detail: error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
  });
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no burst ${id}` });
}
