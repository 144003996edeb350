import type { ClusterConfig } from '@spillway/config';
import type { RegistrySource } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { StaticSource } from './static/static-source.js';

export interface SourceDependencies {
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** The source for one configured cluster. */
export function createSource(cluster: ClusterConfig, deps: SourceDependencies): RegistrySource {
  const logger = deps.logger.child({ source: cluster.name, kind: cluster.kind });
  void logger;
  switch (cluster.kind) {
    case 'static':
      return new StaticSource(cluster);
    default:
      throw new Error(`clusters[${cluster.name}]: kind "${cluster.kind}" is not supported yet`);
  }
}
