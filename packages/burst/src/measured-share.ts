import type { MeasuredShareSettings } from '@spillway/model';
import { formatShare } from './format.js';

/** Used when a policy has no `measuredShare` section (steps are then never held for it). */
export const DEFAULT_MEASURED_SHARE: MeasuredShareSettings = {
  tolerance: 0.05,
  windowSeconds: 60,
  minRequests: 100,
  holdSteps: false,
};

/** The cloud share the clients reported (LRS) over a window, as the controller last read it. */
export interface MeasuredShareReading {
  /** null: no request reported in the window. */
  readonly share: number | null;
  readonly requests: number;
  readonly windowSeconds: number;
}

/**
 * - `follows`: within the tolerance of the published share;
 * - `diverges`: beyond it, over a full window since the share last changed;
 * - `settling`: the share changed less than a window ago (the window still holds the old traffic);
 * - `no-data`: no reading, or too few requests to say.
 */
export type ShareVerdictKind = 'follows' | 'diverges' | 'settling' | 'no-data';

export interface ShareVerdict {
  readonly kind: ShareVerdictKind;
  /** Plain words for waitingOn, the audit log and the API. */
  readonly detail: string;
}

export interface ShareJudgement {
  readonly published: number;
  readonly measured: MeasuredShareReading | undefined;
  /** When the committed share last changed (epoch ms); null: not since the state began. */
  readonly lastShareChangeAt: number | null;
  readonly now: number;
  readonly settings: MeasuredShareSettings;
}

/** Does the traffic the clients report follow the share the router publishes? Pure. */
export function judgeMeasuredShare(input: ShareJudgement): ShareVerdict {
  const { measured, settings, published } = input;
  if (!measured || measured.share === null || measured.requests < settings.minRequests) {
    const requests = measured?.requests ?? 0;
    return {
      kind: 'no-data',
      detail: `${requests} requests reported in ${settings.windowSeconds} s (fewer than ${settings.minRequests})`,
    };
  }
  const measuredText = `measured ${formatShare(measured.share)} over ${measured.windowSeconds} s (${measured.requests} requests), published ${formatShare(published)}`;
  const settledAt =
    input.lastShareChangeAt === null
      ? Number.NEGATIVE_INFINITY
      : input.lastShareChangeAt + settings.windowSeconds * 1000;
  if (settledAt > input.now) {
    return { kind: 'settling', detail: `${measuredText}; the share changed less than ${settings.windowSeconds} s ago` };
  }
  if (Math.abs(measured.share - published) > settings.tolerance) {
    return { kind: 'diverges', detail: `${measuredText}: off by more than ${formatShare(settings.tolerance)}` };
  }
  return { kind: 'follows', detail: measuredText };
}
