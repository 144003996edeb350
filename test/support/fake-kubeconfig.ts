import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `DIR/kubeconfig.json` for the fake Kubernetes API (test/fakes/kubernetes-api.ts), the
 * file an operator would point `customResources.kubeconfig` at, and returns its path.
 */
export function writeFakeKubeconfig(api: { readonly url: string }, dir: string): string {
  const file = join(dir, 'kubeconfig.json');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is declared off.
      clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'spillway', user: { token: 'k8s-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'spillway' } }],
      'current-context': 'fake',
    }),
  );
  return file;
}
