import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CUSTOM_RESOURCE_API_VERSION, CUSTOM_RESOURCE_GROUP, CUSTOM_RESOURCE_VERSION } from '@spillway/model';
import type { CustomObject } from './custom-object-watch.js';

/** What the leader writes about a spillway.dev object: its status subresource, and Warning events. */
export class CustomResourceWriter {
  private readonly customObjects: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly resource: { readonly kind: string; readonly plural: string },
    /** The writer's identity, in events' reportingInstance. */
    private readonly owner: string,
  ) {
    this.customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Merge-patches `status` through the status subresource (the spec is never touched). */
  async patchStatus(object: CustomObject, status: object): Promise<void> {
    await this.customObjects.patchNamespacedCustomObjectStatus(
      {
        group: CUSTOM_RESOURCE_GROUP,
        version: CUSTOM_RESOURCE_VERSION,
        plural: this.resource.plural,
        namespace: object.metadata.namespace,
        name: object.metadata.name,
        body: { status },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** A core v1 Warning event on the object (`kubectl describe` shows it). */
  async warn(object: CustomObject, reason: string, message: string): Promise<void> {
    const { namespace, name, uid, resourceVersion } = object.metadata;
    const at = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: {
          apiVersion: CUSTOM_RESOURCE_API_VERSION,
          kind: this.resource.kind,
          name,
          namespace,
          uid,
          resourceVersion,
        },
        type: 'Warning',
        reason,
        message: message.slice(0, 1024),
        source: { component: 'spillway-controller' },
        reportingComponent: 'spillway.dev/controller',
        reportingInstance: this.owner,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      },
    });
  }
}
