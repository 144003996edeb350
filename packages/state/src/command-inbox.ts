import { z } from 'zod';
import type { FencingToken } from './fencing.js';

/**
 * An operator's command (manual start, abort) on its way from the process serving the API to the
 * deciding leader. Only these fields are the storage contract; the rest is the command's own.
 */
export const InboxCommand = z.looseObject({
  /** Unique per command: a re-delivered command is recognised by it. */
  id: z.string().min(1),
  service: z.string().min(1),
  kind: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  /**
   * Epoch ms after which the push must not take effect. The sender gives up (and answers an
   * error) at about this time; a push that reaches the store later (it waited in the socket of a
   * frozen Redis) is refused by the store itself, so an answered error never turns into a
   * command applied later.
   */
  notAfter: z.number().int().positive().optional(),
});
export type InboxCommand = z.infer<typeof InboxCommand>;

/** The push reached the store after the command's `notAfter`: it was not stored. */
export class CommandExpiredError extends Error {
  override readonly name = 'CommandExpiredError';

  constructor(
    readonly id: string,
    readonly lateByMs: number,
  ) {
    super(`command ${id} reached the store ${lateByMs} ms after its deadline; not stored (never applied)`);
  }
}

/**
 * Commands in order, kept until acknowledged. The leader peeks a service's commands, persists
 * the decision together with their ids, then acks them: a leader that dies in between leaves
 * them for the next one, which recognises the ids it already applied (at least once, applied
 * once). Order is kept per service; `peek()` of every service orders by `at`.
 */
export interface CommandInbox {
  /** Stores the command, unless the store's clock is past its `notAfter` (CommandExpiredError). */
  push(command: InboxCommand): Promise<void>;
  /** The pending commands, oldest first, without removing them. */
  peek(service?: string): Promise<InboxCommand[]>;
  /** Removes these commands of `service` (ids not pending are ignored). */
  /** With `fence` (the leader's), refused (FencedWriteError) once the lease has moved on from it. */
  ack(service: string, ids: readonly string[], fence?: FencingToken): Promise<void>;
}

/** Oldest first across services; per service, the list order is kept (sort is stable). */
export function byIssueTime(a: InboxCommand, b: InboxCommand): number {
  return Date.parse(a.at) - Date.parse(b.at);
}
