import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { formatPath } from '@spillway/config';
import { type CustomObject, CustomObjectPasses, CustomResourceWriter } from '@spillway/controller';
import { DrillConflictError, DrillFile, type DrillReport, type DrillRunView, type DrillService } from '@spillway/drill';
import { DRILL_RESOURCE, DrillStatus, type ResourceCondition } from '@spillway/model';
import type { Logger } from '@spillway/observability';

export interface DrillResourcesOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace?: string | undefined;
  readonly drills: DrillService;
  /** Why this drill may not run here (the API's admission), or undefined. */
  readonly admit: (drill: DrillFile) => string | undefined;
  /** Drills are started, and status written, by the controller leader only. */
  readonly isLeader: () => boolean;
  readonly owner: string;
  readonly logger: Logger;
  /** How often running drills are looked at (their end is written on the next pass). */
  readonly intervalMs: number;
}

const TERMINAL = new Set(['Passed', 'Failed', 'Error']);

/**
 * Drill resources (spillway.dev/v1alpha1) run through the drill service, as `POST /v1/drills`
 * would run them: each generation of a Drill's spec (a drill file) runs once. The status says
 * Pending (another drill runs), Running (with the run's id in `GET /v1/drills/{id}`), then
 * Passed, Failed or Error with a one-line summary; a spec the drill schema refuses, or the
 * admission refuses, is an Error with a Warning event naming why. Deleting a Drill whose run is in
 * progress aborts it (rolled back at once).
 */
export class DrillResources {
  private readonly writer: CustomResourceWriter;
  private readonly logger: Logger;
  private objects: ReadonlyMap<string, CustomObject> = new Map();
  /** Runs this process started, by object: the generation and the run id. */
  private readonly runs = new Map<string, { readonly generation: number; readonly runId: string }>();
  /** Per object, the `uid/generation` already warned about. */
  private readonly warned = new Map<string, string>();
  private readonly passes: CustomObjectPasses;

  constructor(private readonly options: DrillResourcesOptions) {
    this.logger = options.logger.child({ component: 'drill-resources' });
    this.writer = new CustomResourceWriter(options.kubeConfig, DRILL_RESOURCE, options.owner);
    this.passes = new CustomObjectPasses({
      kubeConfig: options.kubeConfig,
      plural: DRILL_RESOURCE.plural,
      namespace: options.namespace,
      logger: this.logger,
      onChange: (objects) => this.onChange(objects),
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

  private onChange(objects: ReadonlyMap<string, CustomObject>): void {
    this.objects = objects;
    for (const [key, run] of this.runs) {
      if (objects.has(key)) continue;
      // The Drill was deleted: a run still in progress is rolled back now.
      if (this.options.drills.abort(run.runId))
        this.logger.info({ resource: key, drill: run.runId }, 'Drill deleted; drill aborted');
      this.runs.delete(key);
      this.warned.delete(key);
    }
  }

  private async pass(): Promise<void> {
    if (!this.options.isLeader()) return;
    for (const object of this.objects.values()) {
      try {
        await this.reconcile(object);
      } catch (error) {
        this.logger.warn({ err: error, resource: object.key }, 'could not update a Drill; retrying');
      }
    }
  }

  private async reconcile(object: CustomObject): Promise<void> {
    const generation = object.metadata.generation;
    const current = DrillStatus.safeParse(object.status);
    const status = current.success ? current.data : undefined;
    const own = this.runs.get(object.key);
    if (own?.generation === generation) {
      const view = this.options.drills.get(own.runId);
      if (view) return this.write(object, status, runStatus(view, generation, status));
    }
    if (status?.observedGeneration === generation && TERMINAL.has(status.phase)) return;
    if (status?.observedGeneration === generation && status.phase === 'Running') {
      // Started by a process that is gone (or whose run was forgotten): its outcome is unknown.
      return this.write(object, status, {
        ...status,
        phase: 'Error',
        summary: 'the process running this drill stopped before it finished; edit the spec to run it again',
        conditions: [condition(status, 'Complete', 'True', 'Lost', 'the run was lost', generation)],
      });
    }
    await this.startRun(object, status);
  }

  private async startRun(object: CustomObject, status: DrillStatus | undefined): Promise<void> {
    const generation = object.metadata.generation;
    const parsed = DrillFile.safeParse(object.spec);
    const refuse = async (reason: string, message: string) => {
      await this.warnOnce(object, reason, message);
      await this.write(object, status, {
        phase: 'Error',
        summary: message.slice(0, 4096),
        observedGeneration: generation,
        conditions: [condition(status, 'Admitted', 'False', reason, message, generation)],
      });
    };
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${formatPath(['spec', ...issue.path])}: ${issue.message}`);
      return refuse('Invalid', `invalid Drill spec: ${problems.join('; ')}`);
    }
    const refusal = this.options.admit(parsed.data);
    if (refusal) return refuse('NotAdmitted', `the drill cannot run here: ${refusal}`);
    let view: DrillRunView;
    try {
      view = this.options.drills.start(parsed.data, `Drill ${object.key}`);
    } catch (error) {
      if (!(error instanceof DrillConflictError)) return refuse('NotAdmitted', (error as Error).message);
      const message = `waiting: ${error.message}`;
      return this.write(object, status, {
        phase: 'Pending',
        summary: message,
        observedGeneration: generation,
        conditions: [condition(status, 'Admitted', 'False', 'Waiting', message, generation)],
      });
    }
    this.runs.set(object.key, { generation, runId: view.id });
    this.logger.info({ resource: object.key, drill: view.id }, 'Drill started');
    await this.write(object, status, runStatus(view, generation, status));
  }

  private async write(
    object: CustomObject,
    previous: DrillStatus | undefined,
    next: Omit<DrillStatus, 'conditions'> & { conditions: ResourceCondition[] },
  ): Promise<void> {
    const status = DrillStatus.parse(next);
    if (isDeepStrictEqual(status, previous)) return;
    await this.writer.patchStatus(object, status);
  }

  private async warnOnce(object: CustomObject, reason: string, message: string): Promise<void> {
    const stamp = `${object.metadata.uid}/${object.metadata.generation}`;
    if (this.warned.get(object.key) === stamp) return;
    this.logger.warn({ resource: object.key, reason }, message);
    await this.writer.warn(object, reason, message);
    this.warned.set(object.key, stamp);
  }
}

/** The status of a run this process started: Running, or its verdict once done. */
function runStatus(view: DrillRunView, generation: number, previous: DrillStatus | undefined): DrillStatus {
  const base = { runId: view.id, startedAt: view.startedAt, observedGeneration: generation };
  const admitted = condition(previous, 'Admitted', 'True', 'Started', `drill ${view.id} started`, generation);
  if (view.state === 'running' || !view.report) {
    return {
      ...base,
      phase: 'Running',
      summary: `drill ${view.id} running (GET /v1/drills/${view.id})`,
      conditions: [admitted],
    };
  }
  const report = view.report;
  const phase = report.outcome === 'passed' ? 'Passed' : report.outcome === 'failed' ? 'Failed' : 'Error';
  return {
    ...base,
    phase,
    finishedAt: previous?.finishedAt ?? new Date().toISOString(),
    summary: summarise(report),
    conditions: [
      admitted,
      condition(previous, 'Complete', 'True', capitalise(report.outcome), summarise(report), generation),
    ],
  };
}

/** One line: the verdict and its key figures. */
export function summarise(report: DrillReport): string {
  const passed = report.expectations.filter((result) => result.status === 'passed').length;
  const failed = report.expectations.filter((result) => result.status === 'failed').map((result) => result.name);
  const { total, failed: failedRequests } = report.requests;
  return (
    `${report.outcome.toUpperCase()}: ran ${report.ranSeconds.toFixed(1)} s, ${total} probe requests, ${failedRequests} failed; ` +
    `expectations ${passed}/${report.expectations.length} passed${failed.length ? ` (failed: ${failed.join(', ')})` : ''}` +
    (report.error ? `; ${report.error}` : '')
  ).slice(0, 4096);
}

export function condition(
  previous: DrillStatus | undefined,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  generation: number,
): ResourceCondition {
  const before = previous?.conditions.find((c) => c.type === type);
  return {
    type,
    status,
    reason: reason.replace(/[^A-Za-z0-9_,:]/g, ''),
    message: message.slice(0, 32_000),
    lastTransitionTime: before?.status === status ? before.lastTransitionTime : new Date().toISOString(),
    observedGeneration: generation,
  };
}

function capitalise(text: string): string {
  return text
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
