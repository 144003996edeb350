import { BurstPolicy, PredictiveSettings } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  accrueCost,
  type BurstState,
  budgetRefusal,
  costStanding,
  dayIn,
  dayStartAfter,
  decide,
  hourlyCost,
  initialBurstState,
  nextDayStart,
  type ObservedCloud,
} from '../src/index.js';
import { policyArb, ticksArb } from './support/arbitraries.js';
import { storyPolicy } from './support/policy.js';
import { runTicks } from './support/run.js';
import { FIRING, RESOLVED, Scenario } from './support/scenario.js';

const HOUR = 3_600_000;

/** Story policy priced so one node-hour is 3.60 and one replica-hour 0.36 (0.001 and 0.0001 a second). */
function pricedPolicy(cost: Record<string, unknown>): BurstPolicy {
  return storyPolicy({
    cost: { nodeHourly: 3.6, replicaHourly: 0.36, currency: 'EUR', dailyResetTimeZone: 'Europe/Berlin', ...cost },
  });
}

const held = (nodes: number, replicas: number): ObservedCloud => ({
  cloudReadyEndpoints: replicas,
  cloudHealthy: true,
  replicasReady: replicas,
  nodesReady: nodes,
  appliedShare: 0,
});

function meteredState(hourly: number, accruedAt: number, dailySpending?: BurstState['dailySpending']): BurstState {
  const state = initialBurstState();
  state.phase = 'holding';
  state.burst = {
    id: 'b1',
    origin: 'manual',
    startedAt: accruedAt,
    path: [0.1],
    share: 0.1,
    shareReason: '',
    capacityShare: 0.1,
    quietSince: null,
    manual: null,
    abort: null,
    waitingOn: null,
    cost: { total: 1, hourly, accruedAt, currency: 'EUR' },
  };
  if (dailySpending) state.dailySpending = dailySpending;
  return state;
}

describe('cost settings', () => {
  it('refuses a time zone that is not an IANA name, naming the field', () => {
    for (const zone of ['Mars/Olympus', '+01:00', '']) {
      const result = BurstPolicy.safeParse({
        ...storyPolicy(),
        cost: { nodeHourly: 1, dailyResetTimeZone: zone },
      });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['cost', 'dailyResetTimeZone']);
    }
    expect(pricedPolicy({ dailyResetTimeZone: 'UTC' }).cost?.dailyResetTimeZone).toBe('UTC');
  });
});

describe('cost model', () => {
  it('prices the nodes and replicas of the parts a policy manages', () => {
    const policy = pricedPolicy({});
    const cost = policy.cost;
    if (!cost) throw new Error('no cost');
    expect(hourlyCost(policy, cost, { nodes: 2, replicas: 20 })).toBeCloseTo(14.4, 9);
    const nodesOnly = { ...policy, cloud: { eks: policy.cloud.eks } };
    expect(hourlyCost(nodesOnly, cost, { nodes: 2, replicas: 20 })).toBeCloseTo(7.2, 9);
  });

  it('charges the rate held since the last decision, and a second decision at the same time nothing', () => {
    const policy = pricedPolicy({});
    const t = Date.UTC(2026, 5, 1, 10, 0, 0);
    const state = meteredState(3.6, t);
    expect(accrueCost(policy, state, held(2, 20), t + 60_000)).toBeCloseTo(0.06, 9);
    expect(state.burst?.cost?.accruedAt).toBe(t + 60_000);
    expect(state.burst?.cost?.hourly).toBeCloseTo(14.4, 9);
    expect(state.burst?.cost?.total).toBeCloseTo(1.06, 9);
    expect(accrueCost(policy, state, held(2, 20), t + 60_000)).toBe(0);
    expect(accrueCost(policy, state, held(2, 20), t + 120_000)).toBeCloseTo(0.24, 9);
    expect(state.dailySpending).toEqual({ day: '2026-06-01', timeZone: 'Europe/Berlin', spent: expect.any(Number) });
    expect(state.dailySpending?.spent).toBeCloseTo(0.3, 9);
  });

  it('goes on at the stored rate until the capacity has been read (a new leader), then at what is read', () => {
    const policy = pricedPolicy({});
    const t = Date.UTC(2026, 5, 1, 10, 0, 0);
    const state = meteredState(7.2, t); // 2 nodes held when the last leader stopped
    const unread: ObservedCloud = { ...held(0, 0), capacityUnread: true };
    // The first pass charges the time without a leader and keeps the rate: the 0s are not a reading.
    expect(accrueCost(policy, state, unread, t + 60_000)).toBeCloseTo(0.12, 9);
    expect(state.burst?.cost?.hourly).toBeCloseTo(7.2, 9);
    // Until the read lands, the held capacity is charged at that rate, not at 0.
    expect(accrueCost(policy, state, held(2, 0), t + 120_000)).toBeCloseTo(0.12, 9);
    expect(state.burst?.cost?.total).toBeCloseTo(1.24, 9);
    expect(state.dailySpending?.spent).toBeCloseTo(0.24, 9);
  });

  it("stands as stored: the open burst's total, today's spending (none after the zone's midnight), the budgets", () => {
    const policy = pricedPolicy({ perBurstBudget: 40 });
    const t = Date.UTC(2026, 5, 1, 20, 0, 0); // 22:00 in Berlin
    const state = meteredState(3.6, t, { day: '2026-06-01', timeZone: 'Europe/Berlin', spent: 7 });
    expect(costStanding(policy, state, t)).toEqual({
      currency: 'EUR',
      burst: 1,
      today: 7,
      perBurstBudget: 40,
      dailyBudget: null,
    });
    expect(costStanding(policy, state, t + 3 * HOUR)?.today).toBe(0);
    expect(costStanding(policy, { ...state, burst: null }, t)?.burst).toBe(0);
    expect(costStanding(storyPolicy(), state, t)).toBeNull();
  });

  it('totals the same however the time is cut into decisions', () => {
    const policy = pricedPolicy({});
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 * HOUR }), { minLength: 1, maxLength: 30 }), (gaps) => {
        const t0 = Date.UTC(2026, 2, 28, 20, 0, 0); // spans the Berlin midnight before the DST change
        const state = meteredState(7.2, t0);
        let now = t0;
        for (const gap of gaps) {
          now += gap;
          accrueCost(policy, state, held(2, 0), now);
        }
        const span = now - t0;
        expect(state.burst?.cost?.total ?? 0).toBeCloseTo(1 + (7.2 * span) / HOUR, 6);
        // Only today's part counts for the day: never more than since the zone's last midnight.
        const sinceMidnight = now - dayStartAfter(t0, now, 'Europe/Berlin');
        expect(state.dailySpending?.spent ?? 0).toBeLessThanOrEqual((7.2 * sinceMidnight) / HOUR + 1e-6);
        expect(state.dailySpending?.day).toBe(dayIn(now, 'Europe/Berlin'));
      }),
    );
  });
});

describe('the day in a time zone (Intl)', () => {
  it('finds midnight on the days a DST change makes 23 and 25 hours long', () => {
    // Berlin springs forward on 2026-03-29: midnight is 23:00Z before it, 22:00Z after it.
    expect(dayIn(Date.UTC(2026, 2, 28, 22, 59), 'Europe/Berlin')).toBe('2026-03-28');
    expect(dayStartAfter(Date.UTC(2026, 2, 28, 20), Date.UTC(2026, 2, 29, 2), 'Europe/Berlin')).toBe(
      Date.UTC(2026, 2, 28, 23),
    );
    expect(dayStartAfter(Date.UTC(2026, 2, 29, 20), Date.UTC(2026, 2, 29, 23), 'Europe/Berlin')).toBe(
      Date.UTC(2026, 2, 29, 22),
    );
    // New York falls back on 2026-11-01: that day runs from 04:00Z to 05:00Z the next day.
    expect(dayStartAfter(Date.UTC(2026, 10, 1, 12), Date.UTC(2026, 10, 2, 6), 'America/New_York')).toBe(
      Date.UTC(2026, 10, 2, 5),
    );
    expect(dayStartAfter(Date.UTC(2026, 10, 1, 5), Date.UTC(2026, 10, 1, 7), 'America/New_York')).toBe(
      Date.UTC(2026, 10, 1, 5),
    );
  });

  it("finds the zone's next midnight, on DST days too", () => {
    expect(nextDayStart(Date.UTC(2026, 2, 28, 12), 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23));
    expect(nextDayStart(Date.UTC(2026, 2, 29, 0, 30), 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 22));
    expect(nextDayStart(Date.UTC(2026, 10, 1, 4), 'America/New_York')).toBe(Date.UTC(2026, 10, 2, 5));
    expect(nextDayStart(Date.UTC(2026, 10, 2, 4, 59, 59, 999), 'America/New_York')).toBe(Date.UTC(2026, 10, 2, 5));
    expect(nextDayStart(Date.UTC(2026, 5, 1, 0), 'UTC')).toBe(Date.UTC(2026, 5, 2, 0));
  });

  it("counts only the part after the zone's midnight toward the new day", () => {
    const policy = pricedPolicy({});
    const beforeMidnight = Date.UTC(2026, 2, 29, 21, 59); // 23:59 CEST, the DST day
    const state = meteredState(3.6, beforeMidnight, { day: '2026-03-29', timeZone: 'Europe/Berlin', spent: 5 });
    accrueCost(policy, state, held(1, 0), beforeMidnight + 120_000);
    expect(state.burst?.cost?.total).toBeCloseTo(1.12, 9);
    expect(state.dailySpending?.day).toBe('2026-03-30');
    expect(state.dailySpending?.spent).toBeCloseTo(0.06, 9);
  });
});

describe('budgets', () => {
  it('holds a burst at the lower step when the next step would break the per-burst budget', () => {
    // 0.1: 1 node + 4 replicas (5.04/h); 0.25: 1 node + 10 (7.20/h); 0.5: 2 nodes + 20 (14.40/h).
    // Held for a 60 s dwell, 0.5 costs 0.24: with what the burst spent by then it breaks 0.30.
    const s = new Scenario(pricedPolicy({ perBurstBudget: 0.3 }));
    s.until((x) => x.share === 0.25, FIRING);
    for (let i = 0; i < 60; i++) s.tick(10, FIRING);
    expect(s.share).toBe(0.25);
    expect(s.state.phase).toBe('shifting');
    const refusals = s.audit().filter((entry) => entry.decision === 'refusal');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.reason).toMatch(
      /^burst checkout\.shop-\S+ held at share 0\.25: perBurstBudget 0\.30 EUR would be exceeded: the burst has spent 0\.\d\d EUR and capacity for share 0\.50 \(14\.40 EUR\/h\) held for its dwell of 60 s costs 0\.24 EUR$/,
    );
    expect(s.state.burst?.waitingOn).toMatch(/^the budget: perBurstBudget 0\.30 EUR/);
    // The capacity of 0.5 was never asked for.
    expect(s.actions().filter((a) => a.kind === 'scale-deployment' && a.replicas > 10)).toEqual([]);
    expect(s.world.nodegroupTarget).toBe(1);
    // It goes on costing what it holds: 1 node + 10 replicas, 7.20/h.
    expect(s.state.burst?.cost?.hourly).toBeCloseTo(7.2, 9);
    const steps = s.audit().filter((entry) => entry.decision === 'step');
    expect(steps.at(-1)?.reason).toMatch(/share 0\.10 → 0\.25; cost so far 0\.\d\d EUR$/);
  });

  it('does not start a burst the daily budget cannot carry, and starts it after midnight in the zone', () => {
    const s = new Scenario(pricedPolicy({ dailyBudget: 0.5 }));
    s.now = Date.UTC(2026, 2, 29, 21, 0); // 23:00 in Berlin, the day DST began
    s.state = { ...initialBurstState(), dailySpending: { day: '2026-03-29', timeZone: 'Europe/Berlin', spent: 0.45 } };
    s.until((x) => x.state.burst !== null, FIRING, 60, 200);
    const startedAt = s.times.at(-1) ?? 0;
    expect(startedAt).toBeGreaterThanOrEqual(Date.UTC(2026, 2, 29, 22)); // 00:00 CEST on the 30th
    expect(startedAt - Date.UTC(2026, 2, 29, 22)).toBeLessThan(60_000);
    const refusals = s.audit().filter((entry) => entry.decision === 'refusal');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ burstId: null, phase: 'idle' });
    expect(refusals[0]?.reason).toBe(
      'burst not started: dailyBudget 0.50 EUR for 2026-03-29 (Europe/Berlin) would be exceeded: 0.45 EUR spent today ' +
        'and capacity for share 0.10 (5.04 EUR/h) held for its dwell of 60 s costs 0.08 EUR',
    );
    expect(s.state.dailySpending).toMatchObject({ day: '2026-03-30', spent: 0 });
    // While refused, the decision asked to be looked at again at the zone's midnight.
    const refused = s.decisions.find((d) => d.audit.some((entry) => entry.decision === 'refusal'));
    expect(refused?.nextDecisionAt).toBe(Date.UTC(2026, 2, 29, 22));
  });

  it('holds a burst that has spent its budget (onBudgetExhausted defaults to hold): it keeps its capacity', () => {
    const s = new Scenario(pricedPolicy({ perBurstBudget: 0.3 }));
    expect(s.policy.cost?.onBudgetExhausted).toBe('hold');
    s.until((x) => (x.state.burst?.cost?.total ?? 0) > 0.3, FIRING);
    for (let i = 0; i < 60; i++) s.tick(10, FIRING);
    expect(s.state.phase).toBe('shifting');
    expect(s.share).toBe(0.25);
    expect(s.state.burst?.cost?.total).toBeGreaterThan(0.4);
    expect(s.audit().filter((entry) => entry.decision === 'abort')).toEqual([]);
  });

  it('drains a burst the moment it has spent its perBurstBudget (drain), and starts none until the signal was quiet', () => {
    const s = new Scenario(pricedPolicy({ perBurstBudget: 0.3, onBudgetExhausted: 'drain' }));
    const decideAtNextMoment = () => {
      const next = s.last.nextDecisionAt ?? s.now + 10_000;
      s.tick(Math.min(next - s.now, 10_000) / 1000, FIRING);
    };
    s.tick(10, FIRING);
    while (s.state.phase !== 'aborted') decideAtNextMoment();
    // Woken when the budget ran out at the rate held, not at the next periodic look.
    expect(s.state.burst?.cost?.total).toBeGreaterThanOrEqual(0.3);
    expect(s.state.burst?.cost?.total).toBeLessThan(0.3 + 1e-5); // within a millisecond of it
    const [abort, ...more] = s.audit().filter((entry) => entry.decision === 'abort');
    expect(more).toEqual([]);
    expect(abort?.reason).toMatch(
      /^aborted by cost-guard: perBurstBudget 0\.30 EUR spent: the burst has spent 0\.30 EUR; cost\.onBudgetExhausted is drain; traffic share 0\.25 → 0 first, capacity after$/,
    );
    expect(s.share).toBe(0);
    // Traffic left at once; capacity goes after, and nothing more is spent once it is idle.
    s.until((x) => x.state.phase === 'idle', FIRING);
    expect(s.world.nodegroupTarget).toBe(0);
    for (let i = 0; i < 60; i++) s.tick(10, FIRING);
    expect(s.state.burst).toBeNull();
    // A quiet signal ends the episode; the next one may burst again.
    for (let i = 0; i < 3; i++) s.tick(10, RESOLVED);
    s.until((x) => x.state.burst !== null, FIRING);
  });

  it('drains a burst that has spent the dailyBudget (drain); the next starts after midnight in the zone', () => {
    const s = new Scenario(pricedPolicy({ dailyBudget: 0.5, onBudgetExhausted: 'drain' }));
    s.now = Date.UTC(2026, 5, 1, 20, 0); // 22:00 in Berlin
    s.state = { ...initialBurstState(), dailySpending: { day: '2026-06-01', timeZone: 'Europe/Berlin', spent: 0.3 } };
    s.until((x) => x.state.phase === 'aborted', FIRING);
    const abort = s.audit().find((entry) => entry.decision === 'abort');
    expect(abort?.reason).toMatch(
      /^aborted by cost-guard: dailyBudget 0\.50 EUR for 2026-06-01 \(Europe\/Berlin\) spent: 0\.5\d EUR today; cost\.onBudgetExhausted is drain/,
    );
    const drainedAt = s.now;
    s.until((x) => x.state.burst !== null && x.state.burst.id !== abort?.burstId, FIRING, 60, 200);
    expect(s.now).toBeGreaterThanOrEqual(Date.UTC(2026, 5, 1, 22)); // 00:00 on the 2nd in Berlin
    expect(s.now - Date.UTC(2026, 5, 1, 22)).toBeLessThan(60_000);
    expect(s.now).toBeGreaterThan(drainedAt);
    expect(s.state.dailySpending).toMatchObject({ day: '2026-06-02' });
  });

  it('a policy without cost spends nothing and never refuses for a budget', () => {
    const s = new Scenario(storyPolicy());
    s.until((x) => x.state.phase === 'holding', FIRING);
    expect(s.state.burst?.cost).toBeUndefined();
    expect(s.decisions.every((d) => d.costAccrued === 0)).toBe(true);
  });
});

describe('budgets and pre-warming', () => {
  it('does not warm capacity the budget cannot carry, and audits it once', () => {
    const predictive = PredictiveSettings.parse({ enabled: true, rateQuery: 'rate', capacityRps: 1000 });
    const policy = { ...pricedPolicy({ dailyBudget: 0.05 }), predictive };
    const quiet = { alertFiring: false, slo: 'recovered' as const };
    let state = initialBurstState();
    const audit: AuditEntry[] = [];
    for (let i = 0; i < 5; i++) {
      const now = Date.UTC(2026, 5, 1, 12, 0, i * 10);
      const forecast = {
        at: now,
        method: 'holt' as const,
        observedRps: 900,
        capacityRps: 1000,
        leadTimeSeconds: 120,
        horizonSeconds: 600,
        crossingAt: now + 60_000,
        peakRps: 1300,
        levelRps: 900,
        trendRpsPerSecond: 2,
      };
      const decision = decide({ policy, state, now, signals: quiet, observed: held(0, 0), forecast });
      state = decision.state;
      audit.push(...decision.audit);
      expect(decision.actions).toEqual([]);
    }
    expect(state.phase).toBe('idle');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.reason).toMatch(
      /^burst not started: dailyBudget 0\.05 EUR for 2026-06-01 \(Europe\/Berlin\) would be exceeded/,
    );
  });
});

describe('cost guard properties', () => {
  const RUNS = { numRuns: 150, seed: 20261205 };
  const pricesArb = fc.record({
    nodeHourly: fc.double({ min: 0, max: 50, noNaN: true }),
    replicaHourly: fc.double({ min: 0, max: 5, noNaN: true }),
    dailyResetTimeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
  });
  const budgetsArb = fc.record(
    {
      perBurstBudget: fc.double({ min: 0.01, max: 5, noNaN: true }),
      dailyBudget: fc.double({ min: 0.01, max: 10, noNaN: true }),
    },
    { requiredKeys: [] },
  );

  it('capacity is asked for only when its dwell fits both budgets', () => {
    fc.assert(
      fc.property(policyArb, pricesArb, budgetsArb, ticksArb(), (base, prices, budgets, ticks) => {
        const policy = BurstPolicy.parse({ ...base, cost: { ...prices, ...budgets } });
        for (const { input, decision } of runTicks(policy, ticks)) {
          const before = input.state.burst;
          const after = decision.state.burst;
          if (after === null) continue;
          const sameBurst = before?.id === after.id;
          const raised = after.capacityShare > (sameBurst ? (before?.capacityShare ?? 0) : 0) + 1e-9;
          if (raised) {
            expect(
              budgetRefusal(
                { policy, state: decision.state, now: input.now },
                after.capacityShare,
                after.cost?.total ?? 0,
              ),
            ).toBeNull();
          }
          if (sameBurst && before?.cost && after.cost)
            expect(after.cost.total).toBeGreaterThanOrEqual(before.cost.total);
        }
      }),
      RUNS,
    );
  });

  it('prices without budgets change no decision', () => {
    fc.assert(
      fc.property(policyArb, pricesArb, ticksArb(), (base, prices, ticks) => {
        const priced = BurstPolicy.parse({ ...base, cost: prices });
        const plain = runTicks(base, ticks);
        // The only difference allowed: the cost in reasons ("; cost so far 0.12 USD").
        const plainText = (value: unknown) => JSON.stringify(value).replace(/; cost so far \d+\.\d\d [A-Z]{3}/g, '');
        runTicks(priced, ticks).forEach((step, i) => {
          expect(plainText(step.decision.actions)).toBe(plainText(plain[i]?.decision.actions));
          expect(step.decision.state.phase).toBe(plain[i]?.decision.state.phase);
          expect(plainText(step.decision.audit)).toBe(plainText(plain[i]?.decision.audit));
        });
      }),
      RUNS,
    );
  });
});
