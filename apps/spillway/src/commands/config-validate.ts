import { loadConfigFile } from '@spillway/config';

/** `spillway config validate FILE`: exit 0 and a summary, or exit 2 naming file, line and field. */
export async function configValidate(file: string): Promise<void> {
  const config = await loadConfigFile(file);
  const kinds = config.clusters.map((cluster) => `${cluster.name} (${cluster.kind}, ${cluster.environment})`);
  process.stdout.write(
    `${file}: valid — ${config.clusters.length} cluster(s)${kinds.length ? `: ${kinds.join(', ')}` : ''}; ` +
      `${config.policies.length} burst polic${config.policies.length === 1 ? 'y' : 'ies'}\n`,
  );
}
