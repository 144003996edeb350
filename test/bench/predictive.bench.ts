/**
 * Predictive pre-warming benchmark: npm run bench:predictive
 * Each scenario runs twice in simulated time (test/support/predictive-world.ts: the simulator's
 * load model and cloud timing, the real burst core), once reactive (predictive.enabled false)
 * and once predictive, and prints one line per scenario:
 *   SCENARIO: reactive burned X% predictive burned Y% prewarm Z node-minutes
 * burned: bad requests (errors and answers over 0.5 s) over the error budget of a 99.9 % SLO for
 * the whole scenario; prewarm: ready nodes × minutes while warm capacity carried no traffic.
 * Goals: on ramp, predictive burns at most half of reactive; on flat, zero pre-warm.
 * BENCH_SCENARIOS=ramp,flat runs a subset; BENCH_VERBOSE=1 prints the audit of each run.
 */

import { PREDICTIVE_SCENARIOS, runScenario } from '../support/predictive-world.js';

const wanted = process.env['BENCH_SCENARIOS']?.split(',').map((name) => name.trim());
const verbose = process.env['BENCH_VERBOSE'] === '1';

function percent(value: number): string {
  return `${value.toFixed(1)}%`;
}

for (const scenario of PREDICTIVE_SCENARIOS) {
  if (wanted && !wanted.includes(scenario.name)) continue;
  const reactive = await runScenario(scenario, false);
  const predictive = await runScenario(scenario, true);
  if (verbose) {
    console.log(`--- ${scenario.name} reactive\n${reactive.audit.join('\n')}`);
    console.log(`--- ${scenario.name} predictive\n${predictive.audit.join('\n')}`);
  }
  console.log(
    `${scenario.name}: reactive burned ${percent(reactive.burnedPercent)} predictive burned ${percent(predictive.burnedPercent)} prewarm ${Math.round(predictive.prewarmNodeMinutes)} node-minutes`,
  );
}
