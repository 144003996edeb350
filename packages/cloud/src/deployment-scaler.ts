import { ApiException, AppsV1Api, type KubeConfig, type V1Scale } from '@kubernetes/client-node';
import { CloudTarget } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { z } from 'zod';
import { type CloudAction, CloudActionError } from './errors.js';

/** The cloud Deployment of a burst policy (`cloud.deployment` in the config). */
export const DeploymentRef = CloudTarget.shape.deployment.unwrap();
export type DeploymentRef = z.infer<typeof DeploymentRef>;

export interface DeploymentStatus {
  /** spec.replicas. */
  readonly desired: number;
  /** status.readyReplicas (0 when absent, as the apiserver omits zero). */
  readonly ready: number;
  /** status.availableReplicas. */
  readonly available: number;
  /** The controller has seen the latest spec (status.observedGeneration ≥ metadata.generation). */
  readonly observed: boolean;
}

export interface DeploymentScaleResult {
  /** Whether this call changed spec.replicas (false: it already had the value). */
  readonly changed: boolean;
  readonly previous: number;
  readonly replicas: number;
}

export interface DeploymentScaler {
  /** Sets spec.replicas through the scale subresource; reads first and writes only when different. */
  scale(ref: DeploymentRef, replicas: number): Promise<DeploymentScaleResult>;
  status(ref: DeploymentRef): Promise<DeploymentStatus>;
}

export interface KubernetesDeploymentScalerOptions {
  /** How many times a write that lost an optimistic-concurrency race (409) is re-read and retried (default 5). */
  readonly conflictRetries?: number;
  readonly logger?: Logger;
}

const Replicas = z.number().int().min(0);
/** HTTP statuses worth another attempt later: conflicts, throttling, apiserver trouble. */
const RETRYABLE_STATUS = new Set([409, 429, 500, 502, 503, 504]);

/**
 * DeploymentScaler over the Kubernetes API with @kubernetes/client-node: reads the Deployment's
 * autoscaling/v1 Scale, and when spec.replicas differs replaces it carrying the resourceVersion
 * it read, so a concurrent writer makes the apiserver answer 409 and the scaler re-reads instead
 * of overwriting blind. Setting an absolute value makes a retry harmless.
 */
export class KubernetesDeploymentScaler implements DeploymentScaler {
  private readonly apis = new Map<string, AppsV1Api>();
  private readonly logger: Logger;

  /** `kubeConfigFor` maps a configured cluster name (`cloud.deployment.cluster`) to its KubeConfig. */
  constructor(
    private readonly kubeConfigFor: (clusterName: string) => KubeConfig,
    private readonly options: KubernetesDeploymentScalerOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger();
  }

  async scale(ref: DeploymentRef, replicas: number): Promise<DeploymentScaleResult> {
    const target = DeploymentRef.parse(ref);
    const name = label(target);
    if (!Replicas.safeParse(replicas).success) {
      throw new CloudActionError({
        action: 'scale-deployment',
        target: name,
        retryable: false,
        detail: `replicas ${replicas} is not a whole number ≥ 0`,
      });
    }
    const api = this.api(target.cluster, 'scale-deployment', name);
    const retries = this.options.conflictRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      let scale: V1Scale;
      try {
        scale = await api.readNamespacedDeploymentScale({ name: target.name, namespace: target.namespace });
      } catch (error) {
        throw kubeError('scale-deployment', name, error, 'read scale');
      }
      const previous = scale.spec?.replicas ?? 0;
      if (previous === replicas) return { changed: false, previous, replicas };
      try {
        await api.replaceNamespacedDeploymentScale({
          name: target.name,
          namespace: target.namespace,
          body: {
            apiVersion: 'autoscaling/v1',
            kind: 'Scale',
            metadata: {
              name: target.name,
              namespace: target.namespace,
              ...(scale.metadata?.resourceVersion ? { resourceVersion: scale.metadata.resourceVersion } : {}),
            },
            spec: { replicas },
          },
        });
        this.logger.info({ deployment: name, from: previous, to: replicas }, 'deployment scaled');
        return { changed: true, previous, replicas };
      } catch (error) {
        if (error instanceof ApiException && error.code === 409 && attempt < retries) {
          this.logger.info({ deployment: name, attempt }, 'scale conflicted with another writer; re-reading');
          continue;
        }
        throw kubeError('scale-deployment', name, error, 'replace scale');
      }
    }
  }

  async status(ref: DeploymentRef): Promise<DeploymentStatus> {
    const target = DeploymentRef.parse(ref);
    const name = label(target);
    try {
      const deployment = await this.api(target.cluster, 'read-status', name).readNamespacedDeployment({
        name: target.name,
        namespace: target.namespace,
      });
      const generation = deployment.metadata?.generation ?? 0;
      return {
        desired: deployment.spec?.replicas ?? 1,
        ready: deployment.status?.readyReplicas ?? 0,
        available: deployment.status?.availableReplicas ?? 0,
        observed: (deployment.status?.observedGeneration ?? 0) >= generation,
      };
    } catch (error) {
      throw kubeError('read-status', name, error, 'read deployment');
    }
  }

  private api(cluster: string, action: CloudAction, name: string): AppsV1Api {
    let api = this.apis.get(cluster);
    if (!api) {
      try {
        api = this.kubeConfigFor(cluster).makeApiClient(AppsV1Api);
      } catch (error) {
        throw new CloudActionError(
          {
            action,
            target: name,
            retryable: false,
            detail: `no Kubernetes config for cluster "${cluster}": ${String(error)}`,
          },
          { cause: error },
        );
      }
      this.apis.set(cluster, api);
    }
    return api;
  }
}

/** One line for a client-node failure: `HTTP 409 Conflict: …` from the Status body, or the network error. */
function kubeError(action: CloudAction, target: string, error: unknown, doing: string): CloudActionError {
  if (error instanceof CloudActionError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const detail = `${doing}: HTTP ${error.code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
    return new CloudActionError(
      {
        action,
        target,
        retryable: RETRYABLE_STATUS.has(error.code),
        detail,
        code: status.reason ?? String(error.code),
      },
      { cause: error },
    );
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // Anything else is the network or the transport (refused, reset, TLS): worth trying again.
  return new CloudActionError(
    { action, target, retryable: true, detail: `${doing}: ${message}`, ...(typeof code === 'string' ? { code } : {}) },
    { cause: error },
  );
}

const StatusBody = z.object({ reason: z.string().optional(), message: z.string().optional() });

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  const parsed = StatusBody.safeParse(value);
  return parsed.success ? parsed.data : {};
}

function label(ref: DeploymentRef): string {
  return `${ref.cluster}/${ref.namespace}/${ref.name}`;
}
