import type { ClusterConfig } from '@spillway/config';
import type { RegistrySource } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { ConsulSource } from './consul/consul-source.js';
import { EksSource } from './eks/eks-source.js';
import { KubernetesSource } from './kubernetes/kubernetes-source.js';
import { NomadSource } from './nomad/nomad-source.js';
import { StaticSource } from './static/static-source.js';

export interface SourceDependencies {
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** The source for one configured cluster. */
export function createSource(cluster: ClusterConfig, deps: SourceDependencies): RegistrySource {
  const logger = deps.logger.child({ source: cluster.name, kind: cluster.kind });
  const env = deps.env ?? process.env;
  switch (cluster.kind) {
    case 'static':
      return new StaticSource(cluster);
    case 'consul':
      return new ConsulSource(cluster, { logger, env });
    case 'nomad':
      return new NomadSource(cluster, { logger, env });
    case 'kubernetes':
      return KubernetesSource.fromConfig(cluster, logger);
    case 'eks':
      return new EksSource(cluster, { logger });
  }
}
