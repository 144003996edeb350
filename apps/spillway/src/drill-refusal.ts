import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { type CustomObject, CustomObjectPasses, CustomResourceWriter } from '@spillway/controller';
import { DRILL_RESOURCE, DrillStatus } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { condition } from './drill-resources.js';

/** Why a Drill does not run under `spillway controller`: its status summary and Warning event. */
export const NO_DRILL_SERVICE =
  'Drill objects run only under spillway up (its drill service); spillway controller (distributed mode) runs none: post a live drill to a spillway router (spillway drill run FILE --api ROUTER_URL), whose overrides it needs';

export interface DrillRefusalOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace?: string | undefined;
  /** Status and events are written by the controller leader only. */
  readonly isLeader: () => boolean;
  readonly owner: string;
  readonly logger: Logger;
  /** How often the objects are looked at again (a new leader answers what the last one did not). */
  readonly intervalMs: number;
}

/**
 * Drill resources where no drill service runs (`spillway controller`): rather than leave them
 * without a word, each generation of a Drill gets status Error (Admitted=False, reason
 * NoDrillService) and one Warning event saying where drills run.
 */
export class DrillRefusal {
  private readonly writer: CustomResourceWriter;
  private readonly logger: Logger;
  private objects: ReadonlyMap<string, CustomObject> = new Map();
  /** Per object, the `uid/generation` already warned about. */
  private readonly warned = new Map<string, string>();
  private readonly passes: CustomObjectPasses;

  constructor(private readonly options: DrillRefusalOptions) {
    this.logger = options.logger.child({ component: 'drill-refusal' });
    this.writer = new CustomResourceWriter(options.kubeConfig, DRILL_RESOURCE, options.owner);
    this.passes = new CustomObjectPasses({
      kubeConfig: options.kubeConfig,
      plural: DRILL_RESOURCE.plural,
      namespace: options.namespace,
      logger: this.logger,
      onChange: (objects) => {
        this.objects = objects;
      },
      pass: () => this.pass(),
      intervalMs: options.intervalMs,
      passFailed: 'Drill pass failed; retrying',
    });
  }

  start(): void {
    this.passes.start();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }

  private async pass(): Promise<void> {
    if (!this.options.isLeader()) return;
    for (const object of this.objects.values()) await this.refuse(object);
  }

  private async refuse(object: CustomObject): Promise<void> {
    const generation = object.metadata.generation;
    const parsed = DrillStatus.safeParse(object.status);
    const previous = parsed.success ? parsed.data : undefined;
    // A drill service (spillway up) has run this generation: its verdict stands.
    if (previous?.runId && previous.observedGeneration === generation) return;
    const status = DrillStatus.parse({
      phase: 'Error',
      summary: NO_DRILL_SERVICE,
      observedGeneration: generation,
      conditions: [condition(previous, 'Admitted', 'False', 'NoDrillService', NO_DRILL_SERVICE, generation)],
    });
    const stamp = `${object.metadata.uid}/${generation}`;
    if (this.warned.get(object.key) !== stamp) {
      this.logger.warn({ resource: object.key }, NO_DRILL_SERVICE);
      await this.writer.warn(object, 'NoDrillService', NO_DRILL_SERVICE);
      this.warned.set(object.key, stamp);
    }
    if (!isDeepStrictEqual(status, previous)) await this.writer.patchStatus(object, status);
  }
}
