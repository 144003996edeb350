import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { CUSTOM_RESOURCE_GROUP, CUSTOM_RESOURCE_VERSION } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { type InformerOptions, InformerRunner } from '@spillway/sources';
import { z } from 'zod';

/** What the controller reads of any spillway.dev object's metadata (unknown fields ignored). */
const CustomObjectMeta = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1),
  uid: z.string().default(''),
  resourceVersion: z.string().default(''),
  generation: z.number().int().min(0).default(0),
  creationTimestamp: z.union([z.string(), z.date()]).transform((value) => new Date(value).toISOString()),
});

export interface CustomObject {
  /** `namespace/name`. */
  readonly key: string;
  readonly metadata: z.infer<typeof CustomObjectMeta>;
  /** Not yet validated: each kind parses its spec with its own schema. */
  readonly spec: unknown;
  readonly status: unknown;
}

export interface CustomObjectWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly plural: string;
  /** One namespace, or every namespace. */
  readonly namespace?: string | undefined;
  readonly logger: Logger;
  /** The whole cache after each change (a relist included); never during a list. */
  readonly onChange: (objects: ReadonlyMap<string, CustomObject>) => void;
  readonly onFailure?: (message: string) => void;
  /** A contact that changed nothing: a bookmark, or a watch resumed without a relist. */
  readonly onAlive?: () => void;
  readonly backoff?: InformerOptions['backoff'];
  readonly watchTimeoutSeconds?: number;
}

/**
 * A cache of one kind of spillway.dev custom object through a client-node informer on the
 * custom objects path: list + watch from the list's resourceVersion, bookmarks, 410 Gone →
 * relist, restarts with backoff (InformerRunner, shared with the Kubernetes registry source).
 */
export class CustomObjectWatch {
  private readonly objects = new Map<string, CustomObject>();
  private readonly runner: InformerRunner;

  constructor(private readonly options: CustomObjectWatchOptions) {
    const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const { plural, namespace } = options;
    const base = { group: CUSTOM_RESOURCE_GROUP, version: CUSTOM_RESOURCE_VERSION, plural };
    const prefix = `/apis/${CUSTOM_RESOURCE_GROUP}/${CUSTOM_RESOURCE_VERSION}`;
    this.runner = new InformerRunner({
      label: namespace ? `${plural} in ns "${namespace}"` : plural,
      kubeConfig: options.kubeConfig,
      path: namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`,
      listPage: (limit, cont) =>
        namespace
          ? api.listNamespacedCustomObject({ ...base, namespace, limit, ...(cont ? { _continue: cont } : {}) })
          : api.listClusterCustomObject({ ...base, limit, ...(cont ? { _continue: cont } : {}) }),
      pageSize: 500,
      backoff: options.backoff ?? {},
      watchTimeoutSeconds: () => options.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random())),
      logger: options.logger,
      hooks: {
        onObject: (event, object) => this.onObject(event, object),
        onSynced: () => this.changed(),
        onAlive: () => options.onAlive?.(),
        onFailure: (message) => {
          options.logger.warn({ plural }, message);
          options.onFailure?.(message);
        },
      },
    });
  }

  get synced(): boolean {
    return this.runner.synced;
  }

  start(): void {
    this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  private onObject(event: 'add' | 'update' | 'delete', object: KubernetesObject): void {
    const raw = object as KubernetesObject & { spec?: unknown; status?: unknown };
    const metadata = CustomObjectMeta.safeParse(raw.metadata);
    if (!metadata.success) {
      this.options.logger.warn({ plural: this.options.plural }, 'skipping a custom object without usable metadata');
      return;
    }
    const key = `${metadata.data.namespace}/${metadata.data.name}`;
    if (event === 'delete') this.objects.delete(key);
    else this.objects.set(key, { key, metadata: metadata.data, spec: raw.spec, status: raw.status });
    // A relist replays every object before onSynced: report once, complete, after it.
    if (!this.runner.listing) this.changed();
  }

  private changed(): void {
    this.options.onChange(new Map(this.objects));
  }
}
