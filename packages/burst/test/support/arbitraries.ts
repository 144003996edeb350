import { BurstPolicy } from '@spillway/model';
import fc from 'fast-check';
import type { BurstSignals, SloSignal } from '../../src/index.js';
import { FULL_CLOUD, SERVICE } from './policy.js';
import type { StartCommand, Tick } from './run.js';
import type { Chaos } from './world.js';

const STEP_CHOICES = [0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1];
const SLO_SIGNALS: readonly SloSignal[] = ['breached', 'ok', 'recovered', 'unknown'];

/** Valid policies, from generous to a budget that caps the steps; cloud parts on and off. */
export const policyArb: fc.Arbitrary<BurstPolicy> = fc
  .record({
    steps: fc.subarray(STEP_CHOICES, { minLength: 1, maxLength: 5 }),
    headroom: fc.constantFrom(0, 0, 0.1, 0.3),
    replicasAtFullShare: fc.integer({ min: 1, max: 40 }),
    podsPerNode: fc.integer({ min: 1, max: 10 }),
    maxReplicas: fc.integer({ min: 1, max: 40 }),
    maxNodes: fc.integer({ min: 1, max: 8 }),
    minReplicas: fc.integer({ min: 0, max: 2 }),
    minNodes: fc.integer({ min: 0, max: 1 }),
    stepIntervalSeconds: fc.integer({ min: 10, max: 120 }),
    minDwellSeconds: fc.integer({ min: 10, max: 120 }),
    cooldownSeconds: fc.integer({ min: 30, max: 600 }),
    withSlo: fc.boolean(),
    eks: fc.boolean(),
    deployment: fc.constantFrom(true, true, true, false),
    route53: fc.boolean(),
  })
  .map((p) => {
    const top = p.steps.at(-1) ?? 1;
    return BurstPolicy.parse({
      service: SERVICE,
      slo: p.withSlo ? { latency: { query: 'latency', thresholdSeconds: 0.5 } } : undefined,
      cloud: {
        eks: p.eks ? FULL_CLOUD.eks : undefined,
        deployment: p.deployment ? FULL_CLOUD.deployment : undefined,
        route53: p.route53 ? FULL_CLOUD.route53 : undefined,
      },
      steps: p.steps,
      maxShare: Math.min(1, top + p.headroom),
      stepIntervalSeconds: p.stepIntervalSeconds,
      minDwellSeconds: p.minDwellSeconds,
      cooldownSeconds: p.cooldownSeconds,
      capacity: {
        replicasAtFullShare: p.replicasAtFullShare,
        podsPerNode: p.podsPerNode,
        maxReplicas: p.maxReplicas,
        maxNodes: p.maxNodes,
        minReplicas: p.minReplicas,
        minNodes: p.minNodes,
      },
    });
  });

export const signalsArb: fc.Arbitrary<BurstSignals> = fc.record({
  alertFiring: fc.boolean(),
  slo: fc.constantFrom(...SLO_SIGNALS),
});

const chaosArb: fc.Arbitrary<Chaos> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<Chaos>('none') },
  { weight: 1, arbitrary: fc.constantFrom<Chaos>('unhealthy', 'healthy', 'lose-pod', 'router-reset', 'catalog-lag') },
);

const startArb: fc.Arbitrary<StartCommand> = fc.record(
  {
    id: fc.constantFrom('manual-1', 'manual-2', 'manual-3'),
    share: fc.constantFrom(0.1, 0.3, 0.6, 1, 0, 1.5),
    steps: fc.constantFrom([0.05, 0.2], [0.3, 0.2], [0.1]),
    expiresInMs: fc.integer({ min: -60_000, max: 1_800_000 }),
  },
  { requiredKeys: ['id', 'share'] },
);

/** Present about once in `every` ticks (fc.option's freq is the other way round). */
function rarely<T>(value: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });
}

export interface TickOptions {
  signals?: fc.Arbitrary<BurstSignals>;
  chaos?: boolean;
  commands?: boolean;
}

export function tickArb(options: TickOptions = {}): fc.Arbitrary<Tick> {
  const none = fc.constant(undefined);
  return fc.record({
    advanceMs: fc.integer({ min: 1_000, max: 180_000 }),
    signals: options.signals ?? signalsArb,
    chaos: options.chaos === false ? fc.constant<Chaos>('none') : chaosArb,
    delayMs: fc.integer({ min: 0, max: 90_000 }),
    fail: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    start: options.commands === false ? none : rarely(startArb, 40),
    abort: options.commands === false ? none : rarely(fc.constant(true), 80),
  });
}

/**
 * Signals hold for a while before changing, as real ones do: segments of one signal value
 * repeated over several ticks.
 */
export function ticksArb(options: TickOptions = {}, maxSegments = 12): fc.Arbitrary<Tick[]> {
  const segment = fc.record({ signals: options.signals ?? signalsArb, length: fc.integer({ min: 1, max: 15 }) });
  return fc.array(segment, { minLength: 1, maxLength: maxSegments }).chain((segments) => {
    const signals = segments.flatMap((s) => Array.from({ length: s.length }, () => s.signals));
    return fc.tuple(...signals.map((s) => tickArb({ ...options, signals: fc.constant(s) })));
  });
}
