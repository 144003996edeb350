import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, postBurst, TOKENS } from './controller-harness.js';
import { type ControllerPair, startControllerPair } from './support/controller-pair.js';
import { type RedisHarness, SERVICE, startRedisHarness } from './support/redis-controller.js';

/**
 * The cost guard on a real Redis with two controllers and one set of cloud fakes. The policy
 * (redis-controller.ts): steps 0.1 → 0.25, minDwell 2 s (the dwell a step is projected over);
 * 0.1 needs 1 replica on 1 node, 0.25 needs 3 replicas on 2 nodes. Priced at 36,000 a node-hour
 * and 3,600 a replica-hour (10 and 1 a second), 0.1 costs 22 over its dwell and 0.25 costs 46:
 * a per-burst budget of 40 lets the burst start and refuses the second step, whatever it has
 * spent by then.
 */
const COST = {
  nodeHourly: 36_000,
  replicaHourly: 3_600,
  currency: 'EUR',
  perBurstBudget: 40,
  dailyBudget: 1_000_000,
  dailyResetTimeZone: 'Europe/Berlin',
};

/** How long the Kubernetes API takes to answer while the leader changes. */
const READ_DELAY_MS = 3_000;

let pair: ControllerPair | undefined;
let first: RedisHarness | undefined;
let second: RedisHarness | undefined;

beforeAll(async () => {
  pair = await startControllerPair({ policy: { cost: COST } });
  ({ first, second } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

async function refusals(url: string, id: string): Promise<Json[]> {
  const entries = (await api(url, 'GET', `/v1/audit?burstId=${id}&limit=1000`)).body.entries as Json[];
  return entries.filter((entry) => entry.details?.decision === 'refusal');
}

/** An operator's burst of SERVICE through `h`'s API; its id. */
async function startBurst(h: RedisHarness, body: { share: number; steps?: number[]; reason: string }): Promise<string> {
  const started = await postBurst(h.url, body);
  expect(started.status).toBe(202);
  return started.body.id as string;
}

/** A sample of `name` for the service in EUR (`budget`: that budget's series); undefined: none. */
async function sample(h: RedisHarness, name: string, budget?: string): Promise<number | undefined> {
  const metric = await h.registry.getSingleMetric(name)?.get();
  return metric?.values.find(
    (v) => v.labels['service'] === SERVICE && v.labels['currency'] === 'EUR' && v.labels['budget'] === budget,
  )?.value;
}

async function costMetric(h: RedisHarness): Promise<number> {
  return (await sample(h, 'spillway_burst_cost_total')) ?? 0;
}

/** The cost gauges as the leader set them from the state store, and the stored totals after. */
async function costGauges(h: RedisHarness) {
  const running = await sample(h, 'spillway_burst_running_cost');
  const today = await sample(h, 'spillway_burst_daily_cost');
  const state = await h.stores.states.get(SERVICE);
  return { running, today, stored: { running: state?.burst?.cost?.total, today: state?.dailySpending?.spent } };
}

describe('cost guard (real Redis, two controllers)', () => {
  let id = '';

  it('holds the burst at the lower step when the next one would break the per-burst budget', async () => {
    id = await startBurst(first!, { share: 0.25, steps: [0.1], reason: 'cost guard test' });
    const held = await waitFor(
      async () => {
        const burst = (await api(first!.url, 'GET', `/v1/bursts/${id}`)).body;
        return burst.share === 0.1 && /^the budget: perBurstBudget/.test(burst.waitingOn ?? '') ? burst : undefined;
      },
      { timeoutMs: 30_000, message: 'the burst held at 0.1 by its budget' },
    );
    expect(held.waitingOn).toMatch(/perBurstBudget 40\.00 EUR would be exceeded/);
    expect(held.cost).toMatchObject({ currency: 'EUR', perBurstBudget: 40 });
    expect(held.cost.total).toBeGreaterThan(0);
    const [refusal, ...more] = await refusals(first!.url, id);
    expect(more).toEqual([]);
    expect(refusal.message).toMatch(
      /held at share 0\.10: perBurstBudget 40\.00 EUR would be exceeded: .* capacity for share 0\.25 \(82800\.00 EUR\/h\) held for its dwell of 2 s costs 46\.00 EUR$/,
    );
    // The second step's capacity was never asked for: 1 replica, 1 node.
    expect(first!.k8s.deployment('shop', 'checkout').replicas).toBe(1);
    expect(first!.eks.nodegroup('burst', 'spot').desiredSize).toBe(1);
    await waitFor(async () => (await costMetric(first!)) > 0, { message: 'spillway_burst_cost_total counting' });
    // The gauges show what the store holds (as of the leader's last pass: never more).
    const gauges = await costGauges(first!);
    expect(gauges.running).toBeGreaterThan(0);
    expect(gauges.running).toBeLessThanOrEqual(gauges.stored.running ?? 0);
    expect(gauges.today).toBeGreaterThanOrEqual(gauges.running ?? 0);
    expect(gauges.today).toBeLessThanOrEqual(gauges.stored.today ?? 0);
    expect(await sample(first!, 'spillway_burst_cost_budget', 'perBurstBudget')).toBe(40);
    expect(await sample(first!, 'spillway_burst_cost_budget', 'dailyBudget')).toBe(1_000_000);
    // The standby shows none: only the leader knows the stored truth.
    expect(await sample(second!, 'spillway_burst_running_cost')).toBeUndefined();
  }, 60_000);

  it('keeps counting the cost across a leader change: nothing is reset, the refusal is not repeated', async () => {
    const before = (await api(first!.url, 'GET', `/v1/bursts/${id}`)).body.cost.total as number;
    // A slow Kubernetes API: the new leader decides for seconds before its first read of the
    // Deployment lands. Meanwhile it knows no capacity, which must not be billed as none.
    pair!.cloud.k8s.delayMs = READ_DELAY_MS;
    await first!.stop();
    const handedOver = await second!.stores.states.get(SERVICE);
    const meter = handedOver?.burst?.cost;
    if (!meter) throw new Error('no meter in the stored state');
    await waitFor(() => second!.running.controller.isLeader(), { timeoutMs: 30_000, message: 'the second leading' });
    // Once the new leader has decided past the slow read, everything since the hand-over was
    // charged at 1 node + 1 replica (11 a second): the same capacity, held throughout.
    const metered = await waitFor(
      async () => {
        const cost = (await second!.stores.states.get(SERVICE))?.burst?.cost;
        return cost && cost.accruedAt > meter.accruedAt + READ_DELAY_MS && cost.hourly === 39_600 ? cost : undefined;
      },
      { timeoutMs: 30_000, message: 'the new leader deciding after its first read' },
    );
    pair!.cloud.k8s.delayMs = 0;
    expect(metered.total - meter.total).toBeCloseTo((11 * (metered.accruedAt - meter.accruedAt)) / 1000, 3);
    // The new leader charges the time without a leader too: 1 node + 1 replica (11 a second) held.
    const after = await waitFor(
      async () => {
        const total = (await api(second!.url, 'GET', `/v1/bursts/${id}`)).body.cost.total as number;
        return total > before + 11 ? total : undefined;
      },
      { timeoutMs: 30_000, message: 'the cost going on from where the first leader left it' },
    );
    expect(after).toBeGreaterThan(before);
    expect(await costMetric(second!)).toBeGreaterThan(0);
    // The new leader's gauges go on from the stored totals: they do not restart at 0 as its counter did.
    const gauges = await costGauges(second!);
    expect(gauges.running).toBeGreaterThan(before);
    expect(gauges.running).toBeLessThanOrEqual(gauges.stored.running ?? 0);
    expect(gauges.today).toBeGreaterThan(before);
    expect(await sample(first!, 'spillway_burst_running_cost')).toBeUndefined();
    const state = await second!.stores.states.get(SERVICE);
    expect(state?.dailySpending?.timeZone).toBe('Europe/Berlin');
    expect(state?.dailySpending?.spent).toBeGreaterThanOrEqual(before);
    await second!.running.controller.settled();
    expect(await refusals(second!.url, id)).toHaveLength(1);
    const burst = (await api(second!.url, 'GET', `/v1/bursts/${id}`)).body;
    expect(burst).toMatchObject({ phase: 'shifting', share: 0.1, active: true });
    expect(burst.cost.hourly).toBe(39_600);

    // Aborted, the ended record keeps the final cost; nothing more is charged once it is idle.
    expect((await api(second!.url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'done' }, TOKENS.operator)).status).toBe(
      202,
    );
    const ended = await waitFor(
      async () => {
        const record = (await api(second!.url, 'GET', `/v1/bursts/${id}`)).body;
        return record.active === false ? record : undefined;
      },
      { timeoutMs: 30_000, message: 'the burst ended' },
    );
    expect(ended.cost.total).toBeGreaterThanOrEqual(after);
    expect(ended.cost.hourly).toBe(0);
    // No burst open: nothing running, and the day keeps what the burst spent.
    await waitFor(async () => (await sample(second!, 'spillway_burst_running_cost')) === 0, {
      message: 'the running cost back at 0',
    });
    expect(await sample(second!, 'spillway_burst_daily_cost')).toBeGreaterThanOrEqual(after);
  }, 90_000);
});

describe('cost guard with onBudgetExhausted: drain (real Redis, one controller)', () => {
  let redis: RunningRedis | undefined;
  let h: RedisHarness | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    // 0.1 (1 node + 1 replica, 11 a second) fits its dwell; the burst spends 40 in about 4 s.
    h = await startRedisHarness({ redisUrl: redis.url, policy: { cost: { ...COST, onBudgetExhausted: 'drain' } } });
    await waitFor(() => h!.running.controller.isLeader(), { message: 'the controller leading' });
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
  });

  it('drains the burst once it has spent its perBurstBudget: traffic back on-prem, capacity released', async () => {
    const id = await startBurst(h!, { share: 0.1, reason: 'drain on budget test' });
    await waitFor(() => h!.routerShare() === 0.1 || undefined, { timeoutMs: 30_000, message: 'the routers at 0.1' });
    const ended = await waitFor(
      async () => {
        const burst = (await api(h!.url, 'GET', `/v1/bursts/${id}`)).body;
        return burst.active === false ? burst : undefined;
      },
      { timeoutMs: 30_000, message: 'the burst drained by the cost guard' },
    );
    expect(ended.abort).toMatchObject({ actor: 'cost-guard' });
    expect(ended.abort.reason).toMatch(
      /^perBurstBudget 40\.00 EUR spent: the burst has spent \d+\.\d\d EUR; cost\.onBudgetExhausted is drain$/,
    );
    expect(ended.cost.total).toBeGreaterThanOrEqual(40);
    // Drained as an abort is: the routers at 0, then the Deployment and the nodegroup back to 0.
    expect(h!.routerShare()).toBe(0);
    expect(h!.k8s.deployment('shop', 'checkout').replicas).toBe(0);
    expect(h!.eks.nodegroup('burst', 'spot').desiredSize).toBe(0);
    const entries = (await api(h!.url, 'GET', `/v1/audit?burstId=${id}&limit=1000`)).body.entries as Json[];
    expect(entries.filter((entry) => entry.details?.decision === 'abort')).toHaveLength(1);
  }, 60_000);
});
