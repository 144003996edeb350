import { ConfigError } from '@spillway/config';
import { defaultValues, loadValuesFile, renderManifests, toYamlDocuments } from '@spillway/manifests';
import cliPackage from '../../package.json' with { type: 'json' };
import { CliError } from '../load-config.js';

export interface ManifestsOptions {
  readonly values?: string;
}

/**
 * `spillway manifests [--values FILE]`: the Kubernetes YAML of the distributed mode on stdout
 * (docs/kubernetes.md), for `kubectl apply -f -` or a GitOps repository. A bad values file is
 * exit 2 naming file, line and field.
 */
export async function manifests(options: ManifestsOptions): Promise<void> {
  try {
    const values = options.values ? await loadValuesFile(options.values) : defaultValues();
    const objects = renderManifests(values, {
      version: cliPackage.version,
      ...(options.values ? { valuesFile: options.values } : {}),
    });
    process.stdout.write(toYamlDocuments(objects));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`invalid values\n${error.message}`, 2);
    throw error;
  }
}
