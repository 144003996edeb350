import { KubeConfig } from '@kubernetes/client-node';
import type { CustomResourcesSettings } from '@spillway/config';

/** The kubeconfig the custom-resource watch uses: a file, the context in it, or in-cluster/default. */
export function customResourcesKubeConfig(settings: CustomResourcesSettings): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (settings.kubeconfig) kubeConfig.loadFromFile(settings.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (settings.context) kubeConfig.setCurrentContext(settings.context);
  return kubeConfig;
}
