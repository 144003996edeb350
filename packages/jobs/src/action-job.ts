import type { JsonValue } from './json.js';

/**
 * One durable, idempotent action of a burst (scale a nodegroup, set a policy, ...). `key` makes
 * adds idempotent: derive it from what the action is for, e.g. `${burstId}:${step}:${kind}`, so a
 * retry or a second controller asking for the same action gets the same job, not a second one.
 */
export interface ActionJob {
  key: string;
  kind: string;
  service: string;
  burstId: string;
  payload: JsonValue;
}
