import type { CommandInbox, InboxCommand } from '@spillway/state';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryStores } from '../src/index.js';
import { api, type Json, postBurst, startHarness, TOKENS } from './controller-harness.js';

/**
 * The inbox as a leader that dies between persisting a decision and acknowledging its commands
 * leaves it: every ack fails (the process "died") until healed, so the commands stay pending.
 */
class DyingAckInbox implements CommandInbox {
  failing = true;
  failedAcks = 0;
  constructor(private readonly inner: CommandInbox) {}
  push(command: InboxCommand): Promise<void> {
    return this.inner.push(command);
  }
  peek(service?: string): Promise<InboxCommand[]> {
    return this.inner.peek(service);
  }
  async ack(service: string, ids: readonly string[]): Promise<void> {
    if (this.failing) {
      this.failedAcks++;
      throw new Error('the leader died before acknowledging its commands');
    }
    await this.inner.ack(service, ids);
  }
}

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('operator commands survive a leader dying between decision and ack', () => {
  it('a command still in the inbox after its decision was persisted is acked, never applied twice', async () => {
    const stores = inMemoryStores();
    const inbox = new DyingAckInbox(stores.inbox);
    harness = await startHarness({}, { stores: { ...stores, inbox } });
    const { url } = harness;
    const share = () => harness!.traffic.get('checkout.shop')?.cloudShare ?? 0;

    const started = await postBurst(url, { share: 0.3, reason: 'inbox recovery' });
    const id = started.body.id as string;
    await waitFor(() => share() === 0.3, { message: 'share 0.3 applied', timeoutMs: 30_000 });
    expect(inbox.failedAcks).toBeGreaterThan(0);
    expect((await inbox.peek('checkout.shop')).map((command) => command.id)).toEqual([id]);

    // Abort and let the burst end while the start command is still pending: a controller that
    // applied it again would start the same burst once more.
    await api(url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'done' }, TOKENS.operator);
    await waitFor(async () => (await api(url, 'GET', `/v1/bursts/${id}`)).body.active === false, {
      message: 'the burst ended',
      timeoutMs: 30_000,
    });
    const ackFailuresAfterEnd = inbox.failedAcks;
    await waitFor(() => inbox.failedAcks > ackFailuresAfterEnd + 5, { message: 'more passes with both pending' });
    expect(share()).toBe(0);

    inbox.failing = false;
    await waitFor(async () => (await inbox.peek('checkout.shop')).length === 0, { message: 'commands acked' });
    const audit = (await api(url, 'GET', `/v1/audit?burstId=${id}&limit=500`)).body.entries as Json[];
    const decisions = audit.filter((entry) => entry.kind === 'decision').map((entry) => entry.details.decision);
    expect(decisions.filter((decision: string) => decision === 'start')).toHaveLength(1);
    expect(decisions.filter((decision: string) => decision === 'refusal')).toHaveLength(0);
    const bursts = (await api(url, 'GET', '/v1/bursts?active=true')).body.bursts as Json[];
    expect(bursts).toEqual([]);
  });
});
