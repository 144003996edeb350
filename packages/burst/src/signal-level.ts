import type { BurstPolicy } from '@spillway/model';
import type { BurstSignals } from './types.js';

/**
 * hot: a reason to burst (alert firing or SLO breached); warm: not hot, but the SLO is not
 * below its recovery line (or cannot be read), so hold where we are; quiet: nothing says
 * the service needs the cloud. The band between warm and quiet is the hysteresis.
 */
export type SignalLevel = 'hot' | 'warm' | 'quiet';

export function signalLevel(policy: BurstPolicy, signals: BurstSignals): SignalLevel {
  // Without an SLO in the policy, the SLO signal means nothing for this service.
  const slo = policy.slo === undefined ? 'recovered' : signals.slo;
  if (signals.alertFiring || slo === 'breached') return 'hot';
  // 'unknown' holds: a Prometheus outage must neither start nor end a burst.
  if (slo === 'ok' || slo === 'unknown') return 'warm';
  return 'quiet';
}

export function describeSignals(policy: BurstPolicy, signals: BurstSignals): string {
  if (signals.detail !== undefined && signals.detail !== '') return signals.detail;
  const parts: string[] = [signals.alertFiring ? 'alert firing' : 'no alert firing'];
  if (policy.slo !== undefined) parts.push(SLO_WORDS[signals.slo]);
  return parts.join(', ');
}

const SLO_WORDS: Record<BurstSignals['slo'], string> = {
  breached: 'SLO breached',
  ok: 'SLO under its threshold but above the recovery line',
  recovered: 'SLO recovered',
  unknown: 'SLO unknown',
};
