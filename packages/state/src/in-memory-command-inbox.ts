import { byIssueTime, type CommandInbox, InboxCommand } from './command-inbox.js';

/** CommandInbox for embedded mode: one array per service. */
export class InMemoryCommandInbox implements CommandInbox {
  private readonly pending = new Map<string, InboxCommand[]>();

  async push(command: InboxCommand): Promise<void> {
    const valid = InboxCommand.parse(JSON.parse(JSON.stringify(command)));
    const list = this.pending.get(valid.service) ?? [];
    list.push(valid);
    this.pending.set(valid.service, list);
  }

  async drain(service?: string): Promise<InboxCommand[]> {
    if (service !== undefined) {
      const list = this.pending.get(service) ?? [];
      this.pending.delete(service);
      return list;
    }
    const all = [...this.pending.values()].flat();
    this.pending.clear();
    return all.sort(byIssueTime);
  }
}
