import type { AbortRequest, BurstCommands, ManualBurstRequest } from '@spillway/burst';
import type { InboxCommand } from '@spillway/state';
import { z } from 'zod';

const StartCommand = z.object({
  id: z.string(),
  service: z.string(),
  kind: z.literal('start'),
  at: z.string(),
  share: z.number().gt(0).max(1),
  steps: z.array(z.number().gt(0).max(1)).optional(),
  reason: z.string(),
  actor: z.string(),
  expiresAt: z.number().optional(),
});

const AbortCommand = z.object({
  id: z.string(),
  service: z.string(),
  kind: z.literal('abort'),
  at: z.string(),
  burstId: z.string().optional(),
  reason: z.string(),
  actor: z.string(),
});

const Command = z.discriminatedUnion('kind', [StartCommand, AbortCommand]);
export type StartCommand = z.infer<typeof StartCommand>;
export type AbortCommand = z.infer<typeof AbortCommand>;

/** An operator's command as the inbox carries it, or an error naming what is wrong. */
export function toBurstCommands(command: InboxCommand): BurstCommands {
  const parsed = Command.parse(command);
  if (parsed.kind === 'abort') {
    const abort: AbortRequest = { reason: parsed.reason, actor: parsed.actor };
    if (parsed.burstId) abort.burstId = parsed.burstId;
    return { abort };
  }
  const start: ManualBurstRequest = { id: parsed.id, share: parsed.share, reason: parsed.reason, actor: parsed.actor };
  if (parsed.steps) start.steps = parsed.steps;
  if (parsed.expiresAt !== undefined) start.expiresAt = parsed.expiresAt;
  return { start };
}
