import type { BurstPolicy } from '@spillway/model';
import {
  type AuditEntry,
  type BurstAction,
  type BurstCommands,
  type BurstDecision,
  type BurstSignals,
  type BurstState,
  committedShare,
  decide,
  initialBurstState,
} from '../../src/index.js';
import { T0 } from './run.js';
import { SimulatedWorld } from './world.js';

export const FIRING: BurstSignals = { alertFiring: true, slo: 'unknown', detail: 'alert SpillwayCheckoutBurn firing' };
export const RESOLVED: BurstSignals = {
  alertFiring: false,
  slo: 'unknown',
  detail: 'alert SpillwayCheckoutBurn resolved',
};

/**
 * A story told tick by tick: the world carries out each decision's actions before the next
 * tick (a prompt job layer), and the scenario keeps every decision for the assertions.
 */
export class Scenario {
  now = T0;
  state: BurstState = initialBurstState();
  readonly world: SimulatedWorld;
  readonly decisions: BurstDecision[] = [];
  /** The time of each decision, parallel to `decisions`. */
  readonly times: number[] = [];

  /** Assigned mid-story to play a policy edited while a burst runs. */
  constructor(public policy: BurstPolicy) {
    this.world = new SimulatedWorld(policy);
  }

  get last(): BurstDecision {
    const last = this.decisions.at(-1);
    if (last === undefined) throw new Error('no decision yet');
    return last;
  }

  get share(): number {
    return committedShare(this.state);
  }

  tick(seconds: number, signals: BurstSignals, commands: BurstCommands = {}): BurstDecision {
    this.now += seconds * 1000;
    this.world.advanceTo(this.now);
    const observed = this.world.observe();
    const decision = decide({ policy: this.policy, state: this.state, now: this.now, signals, observed, commands });
    this.world.submit(decision.actions, this.now, { delayMs: 0, fail: false });
    this.state = decision.state;
    this.decisions.push(decision);
    this.times.push(this.now);
    return decision;
  }

  /** Ticks every `seconds` until `done` holds; throws after `limit` ticks. */
  until(done: (s: Scenario) => boolean, signals: BurstSignals, seconds = 10, limit = 500): BurstDecision {
    for (let i = 0; i < limit; i++) {
      const decision = this.tick(seconds, signals);
      if (done(this)) return decision;
    }
    throw new Error(`not done after ${limit} ticks; phase ${this.state.phase}, share ${this.share}`);
  }

  /** Consecutive distinct phases after each decision. */
  phases(): string[] {
    return this.decisions.map((d) => d.state.phase).filter((p, i, all) => p !== all[i - 1]);
  }

  audit(): AuditEntry[] {
    return this.decisions.flatMap((d) => d.audit);
  }

  actions(): BurstAction[] {
    return this.decisions.flatMap((d) => d.actions);
  }

  /** Each change of the committed share, with its time. */
  shareHistory(): { at: number; share: number }[] {
    const history: { at: number; share: number }[] = [];
    this.decisions.forEach((d, i) => {
      const share = committedShare(d.state);
      if ((history.at(-1)?.share ?? 0) !== share) history.push({ at: this.times[i] ?? 0, share });
    });
    return history;
  }
}
