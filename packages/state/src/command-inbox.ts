import { z } from 'zod';

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
});
export type InboxCommand = z.infer<typeof InboxCommand>;

/**
 * Commands in order, each handed out once. `drain` removes what it returns atomically, so two
 * drainers (a leader and one that is just losing the lease) never both get a command. Order is
 * kept per service; `drain()` of every service orders by `at`.
 */
export interface CommandInbox {
  push(command: InboxCommand): Promise<void>;
  drain(service?: string): Promise<InboxCommand[]>;
}

/** Oldest first across services; per service, the list order is kept (sort is stable). */
export function byIssueTime(a: InboxCommand, b: InboxCommand): number {
  return Date.parse(a.at) - Date.parse(b.at);
}
