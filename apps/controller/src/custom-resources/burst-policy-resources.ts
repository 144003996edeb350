import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { BurstState } from '@spillway/burst';
import { formatPath } from '@spillway/config';
import { BURST_POLICY_RESOURCE, BurstPolicy, BurstPolicyStatus, type TrafficPolicyReader } from '@spillway/model';
import { Counter, type Logger, type Registry } from '@spillway/observability';
import type { StateStore } from '@spillway/state';
import type { LivePolicySet } from '../policies/live-policy-set.js';
import type { PolicyResource } from '../policies/merge-policies.js';
import { burstPolicyStatus, type PolicyResourceStanding } from './burst-policy-status.js';
import { CustomObjectPasses } from './custom-object-passes.js';
import type { CustomObject, CustomObjectWatchOptions } from './custom-object-watch.js';
import { CustomResourceWriter } from './resource-writer.js';

export interface BurstPolicyResourcesOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace?: string | undefined;
  readonly policies: LivePolicySet;
  /** Status and events are written by the leader only. */
  readonly isLeader: () => boolean;
  /** The controller's identity, in events' reportingInstance. */
  readonly owner: string;
  readonly states: StateStore<BurstState>;
  readonly traffic: TrafficPolicyReader;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly statusIntervalMs: number;
  /** The config's cluster names: a policy's `cloud.deployment.cluster` must be one of them. */
  readonly clusters: ReadonlySet<string>;
  readonly backoff?: CustomObjectWatchOptions['backoff'];
}

type ParsedSpec =
  | { readonly ok: true; readonly policy: BurstPolicy }
  | { readonly ok: false; readonly problems: string[] };

/**
 * BurstPolicy resources → the live policy set, and their status back. Every spec is validated
 * with the config's own BurstPolicy schema; a bad one is left out of the set (the others are
 * unaffected), gets Ready=False naming the fields and one Warning event per generation. The
 * leader writes status (phase, share, targetShare, conditions) through the status subresource,
 * only when it differs from what the object carries.
 */
export class BurstPolicyResources {
  private readonly writer: CustomResourceWriter;
  private readonly logger: Logger;
  private objects: ReadonlyMap<string, CustomObject> = new Map();
  private readonly parsed = new Map<string, ParsedSpec>();
  /** Per object, the `uid/generation` already warned about: one event per bad generation. */
  private readonly warned = new Map<string, string>();
  /**
   * Per object, the status last sent and the resourceVersion it was sent against: until the
   * watch shows a newer version, the object's own status is stale and this one stands.
   */
  private readonly sent = new Map<string, { readonly status: BurstPolicyStatus; readonly against: string }>();
  private readonly passes: CustomObjectPasses;
  private readonly writes: Counter<'result'>;
  private readonly warnings: Counter;

  constructor(private readonly options: BurstPolicyResourcesOptions) {
    this.logger = options.logger.child({ component: 'burst-policy-resources' });
    this.writer = new CustomResourceWriter(options.kubeConfig, BURST_POLICY_RESOURCE, options.owner);
    this.passes = new CustomObjectPasses({
      kubeConfig: options.kubeConfig,
      plural: BURST_POLICY_RESOURCE.plural,
      namespace: options.namespace,
      logger: this.logger,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onChange: (objects) => this.onChange(objects),
      pass: () => this.syncAll(),
      intervalMs: options.statusIntervalMs,
      passFailed: 'BurstPolicy status pass failed; retrying',
    });
    this.writes = new Counter({
      name: 'spillway_custom_resource_status_writes_total',
      help: 'BurstPolicy status PATCHes by the leader, by result (ok, error)',
      labelNames: ['result'],
      registers: [options.registry],
    });
    this.warnings = new Counter({
      name: 'spillway_custom_resource_invalid_total',
      help: 'BurstPolicy generations refused as invalid (each gets a Warning event)',
      registers: [options.registry],
    });
  }

  get synced(): boolean {
    return this.passes.synced;
  }

  start(): void {
    this.passes.start();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }

  private onChange(objects: ReadonlyMap<string, CustomObject>): void {
    this.objects = objects;
    const valid: PolicyResource[] = [];
    for (const [key, object] of objects) {
      const spec = parseSpec(object.spec, this.options.clusters);
      this.parsed.set(key, spec);
      if (spec.ok) {
        const { namespace, name, creationTimestamp, generation } = object.metadata;
        valid.push({ namespace, name, createdAt: creationTimestamp, generation, policy: spec.policy });
      }
    }
    for (const key of this.parsed.keys()) if (!objects.has(key)) this.forget(key);
    this.options.policies.replaceResources(valid);
  }

  private forget(key: string): void {
    this.parsed.delete(key);
    this.warned.delete(key);
    this.sent.delete(key);
  }

  private async syncAll(): Promise<void> {
    if (!this.options.isLeader() || this.objects.size === 0) return;
    const { states } = await this.options.states.all();
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const object of this.objects.values()) {
      const standing = this.standing(object, states);
      if (standing.kind === 'invalid') await this.warnOnce(object, standing.problems);
      await this.writeStatus(object, standing, now);
    }
  }

  private standing(object: CustomObject, states: ReadonlyMap<string, BurstState>): PolicyResourceStanding {
    const spec = this.parsed.get(object.key) ?? parseSpec(object.spec, this.options.clusters);
    if (!spec.ok) return { kind: 'invalid', problems: spec.problems };
    const conflict = this.options.policies.conflict(object.key);
    if (conflict) return { kind: 'conflict', reason: conflict };
    const service = spec.policy.service;
    const state = states.get(service);
    const heading = state?.burst && state.phase !== 'aborted' ? (state.burst.path.at(-1) ?? 0) : 0;
    return {
      kind: 'in-force',
      service,
      burst: {
        phase: state?.phase ?? 'idle',
        share: this.options.traffic.get(service)?.cloudShare ?? 0,
        targetShare: state?.phase === 'idle' ? 0 : heading,
      },
    };
  }

  private async writeStatus(object: CustomObject, standing: PolicyResourceStanding, now: string): Promise<void> {
    const current = BurstPolicyStatus.safeParse(object.status);
    const previous = current.success ? current.data : undefined;
    const status = burstPolicyStatus({ generation: object.metadata.generation, standing, previous, now });
    const sent = this.sent.get(object.key);
    const pending = sent?.against === object.metadata.resourceVersion ? sent.status : undefined;
    if (isDeepStrictEqual(status, previous) || isDeepStrictEqual(status, pending)) return;
    try {
      await this.writer.patchStatus(object, status);
      this.sent.set(object.key, { status, against: object.metadata.resourceVersion });
      this.writes.inc({ result: 'ok' });
    } catch (error) {
      this.writes.inc({ result: 'error' });
      this.logger.warn({ err: error, resource: object.key }, 'could not write BurstPolicy status; retrying');
    }
  }

  /** One Warning event per bad generation, on the object, naming every bad field. */
  private async warnOnce(object: CustomObject, problems: readonly string[]): Promise<void> {
    const stamp = `${object.metadata.uid}/${object.metadata.generation}`;
    if (this.warned.get(object.key) === stamp) return;
    this.logger.warn({ resource: object.key, problems }, 'invalid BurstPolicy; left out of the policies');
    try {
      await this.writer.warn(object, 'InvalidSpec', `invalid BurstPolicy spec, not in force: ${problems.join('; ')}`);
      this.warned.set(object.key, stamp);
      this.warnings.inc();
    } catch (error) {
      this.logger.warn({ err: error, resource: object.key }, 'could not post the Warning event; retrying');
    }
  }
}

/**
 * The spec through the config's own schema, and the check the config file makes of its own
 * policies (the Deployment's cluster is configured); problems as `spec.field.path: why`.
 */
function parseSpec(spec: unknown, clusters: ReadonlySet<string>): ParsedSpec {
  const result = BurstPolicy.safeParse(spec);
  if (result.success) {
    const cluster = result.data.cloud.deployment?.cluster;
    if (cluster !== undefined && !clusters.has(cluster)) {
      return {
        ok: false,
        problems: [`spec.cloud.deployment.cluster: no cluster named "${cluster}" in the controller's config`],
      };
    }
    return { ok: true, policy: result.data };
  }
  return {
    ok: false,
    problems: result.error.issues.map((issue) => `${formatPath(['spec', ...issue.path])}: ${issue.message}`),
  };
}
