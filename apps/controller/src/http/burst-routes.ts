// The auth package types route roles and request.principal (Fastify module augmentation).
import type {} from '@spillway/auth';
import { MIN_MANUAL_SHARE } from '@spillway/burst';
import { PrintableText } from '@spillway/model';
import { type ReadinessCheck, sendProblem } from '@spillway/observability';
import { AuditClass, type AuditLog, type BurstRecords, InvalidCursorError } from '@spillway/state';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { BurstController } from '../burst-controller.js';
import { unavailable } from './unavailable.js';

const ServiceKey = z.string().regex(/^[a-z0-9-_]+\.[a-z0-9-_]+$/, 'expected NAME.NS');

/** A manual burst nobody ends ends by itself after this long (an operator may ask for up to a week). */
export const DEFAULT_BURST_EXPIRY_SECONDS = 4 * 3600;
const MAX_BURST_EXPIRY_SECONDS = 7 * 24 * 3600;

const ManualShare = z
  .number()
  .min(MIN_MANUAL_SHARE, `must be at least ${MIN_MANUAL_SHARE}: a smaller share holds cloud capacity for no traffic`)
  .max(1);

const StartBurst = z.strictObject({
  service: ServiceKey,
  share: ManualShare,
  // Reasons are shown again (audit log, CLI tables): printable text only.
  reason: PrintableText.trim().min(1, 'say why (it goes to the audit log)').max(500),
  steps: z.array(ManualShare).min(1).max(20).optional(),
  expiresInSeconds: z.number().int().min(1).max(MAX_BURST_EXPIRY_SECONDS).default(DEFAULT_BURST_EXPIRY_SECONDS),
});

/** An opaque `next` from an earlier page; the stores check what is inside. */
const Cursor = z.string().min(1).max(512);

const PageLimit = z.coerce.number().int().min(1).max(1000).default(100);

const AbortBurst = z.strictObject({ reason: PrintableText.trim().min(1).max(500).default('aborted by an operator') });

const ListBursts = z.strictObject({
  service: ServiceKey.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  limit: PageLimit,
  cursor: Cursor.optional(),
});

const ListAudit = z.strictObject({
  service: ServiceKey.optional(),
  burstId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  /** Comma-separated retention classes, e.g. `operator,decision`. */
  class: z
    .string()
    .transform((text) => text.split(','))
    .pipe(z.array(AuditClass).min(1))
    .optional(),
  limit: PageLimit,
  cursor: Cursor.optional(),
});

/** How far back a burst's history is looked for: a burst's own entries start around its creation. */
const HISTORY_SLACK_MS = 60_000;

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
      const page = await bursts.page(query.data);
      return { bursts: page.bursts, next: page.next, degraded: controller.lastError };
    } catch (error) {
      if (error instanceof InvalidCursorError) return badCursor(reply, error);
      return unavailable(reply, error);
    }
  });

  app.get<{ Params: { id: string } }>('/v1/bursts/:id', async (request, reply) => {
    try {
      const burst = await bursts.get(request.params.id);
      if (!burst) return notFound(reply, request.params.id);
      const since = new Date(Date.parse(burst.createdAt) - HISTORY_SLACK_MS).toISOString();
      const history = await audit.page({ burstId: burst.id, since, limit: 500, maxScan: 50_000 });
      return { ...burst, history: history.entries.reverse(), degraded: controller.lastError };
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
    const { class: classes, ...rest } = query.data;
    try {
      return await audit.page({ ...rest, ...(classes ? { classes } : {}) });
    } catch (error) {
      if (error instanceof InvalidCursorError) return badCursor(reply, error);
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

function badCursor(reply: FastifyReply, error: InvalidCursorError): FastifyReply {
  return sendProblem(reply, { title: 'Bad Request', status: 400, detail: `cursor: ${error.message}` });
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no burst ${id}` });
}
