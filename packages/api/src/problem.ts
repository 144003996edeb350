import { z } from 'zod';

/**
 * RFC 9457 problem details: the body of every error (`application/problem+json`). Routes add
 * extension members: `problems` (every bad field of a drill), `path` (the bad field of a webhook),
 * `running` (the drill in the way), `degraded` (the state store is away), `code` (Fastify's error code).
 */
export const Problem = z.looseObject({
  type: z.string().describe('always about:blank: the status says what kind of problem it is'),
  title: z.string().describe("the status's reason phrase"),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional().describe('what was wrong, naming the field when a field was'),
  problems: z.array(z.string()).optional().describe('every problem found, one per field (drills)'),
  path: z.string().optional().describe('the field at fault (Alertmanager webhook)'),
  running: z.string().optional().describe('the id of the drill that is running (409)'),
  degraded: z.boolean().optional().describe('true: the state store is unreachable (503)'),
  code: z.string().optional().describe("Fastify's error code (e.g. FST_ERR_CTP_BODY_TOO_LARGE)"),
});
export type Problem = z.infer<typeof Problem>;
