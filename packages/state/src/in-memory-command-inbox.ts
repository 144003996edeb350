import { byIssueTime, CommandExpiredError, type CommandInbox, InboxCommand } from './command-inbox.js';

/** CommandInbox for embedded mode: one array per service. */
export class InMemoryCommandInbox implements CommandInbox {
  private readonly pending = new Map<string, InboxCommand[]>();

  async push(command: InboxCommand): Promise<void> {
    const valid = InboxCommand.parse(JSON.parse(JSON.stringify(command)));
    const now = Date.now();
    if (valid.notAfter !== undefined && now > valid.notAfter)
      throw new CommandExpiredError(valid.id, now - valid.notAfter);
    const list = this.pending.get(valid.service) ?? [];
    list.push(valid);
    this.pending.set(valid.service, list);
  }

  async peek(service?: string): Promise<InboxCommand[]> {
    if (service !== undefined) return [...(this.pending.get(service) ?? [])];
    return [...this.pending.values()].flat().sort(byIssueTime);
  }

  async ack(service: string, ids: readonly string[]): Promise<void> {
    const done = new Set(ids);
    const left = (this.pending.get(service) ?? []).filter((command) => !done.has(command.id));
    if (left.length > 0) this.pending.set(service, left);
    else this.pending.delete(service);
  }
}
