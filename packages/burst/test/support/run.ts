import type { BurstPolicy } from '@spillway/model';
import {
  type BurstCommands,
  type BurstDecision,
  type BurstSignals,
  type BurstState,
  type DecideInput,
  decide,
  initialBurstState,
} from '../../src/index.js';
import { type Chaos, type Outcome, SimulatedWorld } from './world.js';

/** 2025-03-01T12:00:00Z: any fixed epoch works; tests never read a clock. */
export const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);

export interface StartCommand {
  id: string;
  share: number;
  steps?: number[];
  expiresInMs?: number;
}

export interface Tick extends Outcome {
  advanceMs: number;
  signals: BurstSignals;
  chaos: Chaos;
  start?: StartCommand;
  abort?: boolean;
}

export interface Step {
  index: number;
  tick: Tick;
  input: DecideInput;
  decision: BurstDecision;
}

function commandsOf(tick: Tick, now: number): BurstCommands {
  const commands: BurstCommands = {};
  if (tick.start !== undefined) {
    const { expiresInMs, ...rest } = tick.start;
    commands.start = { ...rest, reason: 'load test', actor: 'ops' };
    if (expiresInMs !== undefined) commands.start.expiresAt = now + expiresInMs;
  }
  if (tick.abort === true) commands.abort = { reason: 'looks wrong', actor: 'ops' };
  return commands;
}

/** Drives decide over the ticks; the world follows the actions with each tick's delay/failure. */
export function runTicks(policy: BurstPolicy, ticks: readonly Tick[]): Step[] {
  const world = new SimulatedWorld(policy);
  let state: BurstState = initialBurstState();
  let now = T0;
  return ticks.map((tick, index) => {
    now += tick.advanceMs;
    world.advanceTo(now);
    world.chaos(tick.chaos);
    const input: DecideInput = {
      policy,
      state,
      now,
      signals: tick.signals,
      observed: world.observe(),
      commands: commandsOf(tick, now),
    };
    const decision = decide(input);
    world.submit(decision.actions, now, tick);
    state = decision.state;
    return { index, tick, input, decision };
  });
}
