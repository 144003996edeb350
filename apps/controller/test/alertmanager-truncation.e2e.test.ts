import { type RunningAlertmanager, startAlertmanager } from '@spillway/test/support/alertmanager';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, startHarness, TOKENS } from './controller-harness.js';

/**
 * The trap of `max_alerts`, with the real Alertmanager 0.25: one group (group_by: [alertname])
 * holds the alerts of two services, and each notification lists only the first (its status and
 * commonLabels come from that one alone). The controller asks Alertmanager's API for the group's
 * real members (the notification's externalURL says where it is), so both bursts start.
 */

const ALERT = 'SpillwayErrorBudgetBurn';
const SERVICES = ['cart.shop', 'checkout.shop'];

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
let alertmanager: RunningAlertmanager | undefined;

beforeAll(async () => {
  harness = await startHarness(
    {},
    {
      extraPolicies: [
        {
          service: 'cart.shop',
          steps: [0.1],
          capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 },
          triggers: { alerts: [{ alertname: ALERT, labels: { service: 'cart.shop' } }] },
        },
      ],
    },
  );
  alertmanager = await startAlertmanager({
    webhookUrl: `${harness.url}/v1/alerts/alertmanager`,
    bearerToken: TOKENS.webhook,
    groupBy: ['alertname'],
    groupWait: '1s',
    groupInterval: '1s',
    repeatInterval: '1h',
    maxAlerts: 1,
  });
}, 60_000);

afterAll(async () => {
  const results = await Promise.allSettled([alertmanager?.stop()]);
  await harness?.stop();
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

async function pushAlerts(services: readonly string[], endsAt: Date): Promise<void> {
  const response = await fetch(`${alertmanager!.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      services.map((service) => ({
        labels: { alertname: ALERT, service, severity: 'page' },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: endsAt.toISOString(),
      })),
    ),
  });
  expect(response.status).toBe(200);
}

async function activeServices(): Promise<string[]> {
  const bursts = (await api(harness!.url, 'GET', '/v1/bursts?active=true')).body.bursts as Json[];
  return bursts.map((burst) => burst.service as string).sort();
}

describe('max_alerts: 1, two services in one group (real Alertmanager 0.25)', () => {
  it('both bursts start promptly: the truncated member is read from the Alertmanager API', async () => {
    const pushedAt = Date.now();
    await pushAlerts(SERVICES, new Date(Date.now() + 10 * 60_000));
    await waitFor(async () => (await activeServices()).join() === SERVICES.join(), {
      timeoutMs: 20_000,
      message: 'a burst for each service',
    });
    const startedMs = Date.now() - pushedAt;
    const audit = (await api(harness!.url, 'GET', '/v1/audit?limit=500')).body.entries as Json[];
    for (const service of SERVICES) {
      expect(
        audit.find((e) => e.service === service && e.kind === 'signal' && e.message === `alerts firing: ${ALERT}`),
      ).toBeDefined();
    }
    console.info(`max_alerts 1, two services in one group: both bursts active ${startedMs} ms after the push`);
  }, 60_000);

  it('a group sent "resolved" because its listed member resolved keeps the truncated member firing', async () => {
    // Alertmanager lists the group's alerts sorted by labels: cart.shop is the one listed. It
    // resolves; the notification says "resolved" (status and commonLabels come from the listed
    // alerts only) while checkout.shop, truncated, still fires.
    await pushAlerts(['cart.shop'], new Date());
    await waitFor(
      async () => {
        const audit = (await api(harness!.url, 'GET', '/v1/audit?service=cart.shop&limit=50')).body.entries;
        return (audit as Json[]).some((e) => e.kind === 'signal' && e.message === 'alerts resolved');
      },
      { timeoutMs: 20_000, message: 'cart.shop resolved' },
    );
    await harness!.running.controller.settled();
    const checkout = (await api(harness!.url, 'GET', '/v1/audit?service=checkout.shop&limit=50')).body
      .entries as Json[];
    expect(checkout.find((e) => e.kind === 'signal')?.message).toBe(`alerts firing: ${ALERT}`);
    expect(await activeServices()).toContain('checkout.shop');
  }, 60_000);

  it('a truncated member that resolves is known gone: the API no longer lists it among the group', async () => {
    // cart.shop fires again (listed first); checkout.shop resolves while truncated: no
    // notification names it, but the group's active members no longer include it.
    await pushAlerts(['cart.shop'], new Date(Date.now() + 10 * 60_000));
    await waitFor(async () => (await latestSignal('cart.shop')) === `alerts firing: ${ALERT}`, {
      timeoutMs: 20_000,
      message: 'cart.shop firing again',
    });
    await pushAlerts(['checkout.shop'], new Date());
    await waitFor(async () => (await latestSignal('checkout.shop')) === 'alerts resolved', {
      timeoutMs: 20_000,
      message: 'checkout.shop resolved although no notification listed it',
    });
    expect(await latestSignal('cart.shop')).toBe(`alerts firing: ${ALERT}`);
  }, 60_000);
});

async function latestSignal(service: string): Promise<string | undefined> {
  const audit = (await api(harness!.url, 'GET', `/v1/audit?service=${service}&limit=50`)).body.entries as Json[];
  return audit.find((e) => e.kind === 'signal')?.message;
}
