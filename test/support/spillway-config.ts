import { sha256Hex } from '@spillway/auth';
import type { Role, SpillwayConfigInput } from '@spillway/config';
import { stringify } from 'yaml';

/**
 * The config files the tests give `spillway up` (and federation, router): typed as the config
 * schema's input, written as YAML. Most tests need the same two static sites — `lab` (on-prem,
 * region lab) and `cloud` (region us-east-1) — a few services on loopback ports and burst
 * policies without cloud adapters (`cloud: {}`: only the traffic share moves).
 */

type StaticCluster = Extract<NonNullable<SpillwayConfigInput['clusters']>[number], { kind: 'static' }>;
type StaticService = NonNullable<StaticCluster['services']>[number];
export type StaticEndpointInput = StaticService['endpoints'][number];
export type BurstPolicyInput = NonNullable<SpillwayConfigInput['policies']>[number];

/** A bearer token in clear; the config holds its SHA-256. */
export interface ClearToken {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

/** Endpoints by service (`name.namespace`). */
export type ServiceEndpoints = Readonly<Record<string, readonly StaticEndpointInput[]>>;

export interface SpillwayConfigOptions extends Omit<SpillwayConfigInput, 'auth' | 'clusters'> {
  readonly tokens?: readonly ClearToken[];
  /** Services of the on-prem static cluster `lab` (region lab); no cluster when absent. */
  readonly lab?: ServiceEndpoints;
  /** Services of the cloud static cluster `cloud` (region us-east-1); no cluster when absent. */
  readonly cloud?: ServiceEndpoints;
}

/** The config file's text. */
export function spillwayConfigYaml(options: SpillwayConfigOptions): string {
  const { tokens, lab, cloud, ...rest } = options;
  const clusters: StaticCluster[] = [];
  if (lab) clusters.push(staticCluster('lab', 'onprem', 'lab', lab));
  if (cloud) clusters.push(staticCluster('cloud', 'cloud', 'us-east-1', cloud));
  const config: SpillwayConfigInput = {
    ...(tokens
      ? { auth: { tokens: tokens.map(({ name, role, token }) => ({ name, role, sha256: sha256Hex(token) })) } }
      : {}),
    ...(clusters.length > 0 ? { clusters } : {}),
    ...rest,
  };
  return stringify(config);
}

/** An endpoint on 127.0.0.1 (nothing need listen there unless the test says so). */
export function loopback(port: number, zone: string, more: Partial<StaticEndpointInput> = {}): StaticEndpointInput {
  return { address: '127.0.0.1', port, zone, ...more };
}

/** A policy that moves only the traffic share (`cloud: {}`), with a capacity budget of 10 replicas on 2 nodes. */
export function burstPolicy(service: string, more: Partial<BurstPolicyInput> = {}): BurstPolicyInput {
  return { service, cloud: {}, capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }, ...more };
}

/** burstPolicy stepping every second up to 0.5, with a 1 s dwell: one test's burst does not hold up the next. */
export function quickBurstPolicy(service: string, more: Partial<BurstPolicyInput> = {}): BurstPolicyInput {
  return burstPolicy(service, { maxShare: 0.5, stepIntervalSeconds: 1, minDwellSeconds: 1, ...more });
}

function staticCluster(
  name: string,
  environment: StaticCluster['environment'],
  region: string,
  services: ServiceEndpoints,
): StaticCluster {
  return {
    name,
    kind: 'static',
    environment,
    region,
    services: Object.entries(services).map(([service, endpoints]) => {
      const [serviceName = '', namespace = ''] = service.split('.');
      return { name: serviceName, namespace, endpoints: [...endpoints] };
    }),
  };
}
