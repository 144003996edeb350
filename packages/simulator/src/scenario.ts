import { BurstPolicy, Environment, parseServiceKey } from '@spillway/model';
import { z } from 'zod';

/**
 * A simulated world as plain data (zod-validated, so a drill can load it from YAML). Every
 * duration is in SIMULATED seconds; the fleet's speed factor decides how fast they pass.
 */

const Name = z.string().regex(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/, 'expected a lowercase name');
const ServiceRef = z.string().refine((key) => parseServiceKey(key) !== undefined, 'expected NAME.NS');
const Seconds = z.number().positive();

/** A service with the same number of endpoints in every zone of its site. */
const SiteService = z.strictObject({
  service: ServiceRef,
  endpointsPerZone: z.number().int().min(0).max(64),
});

/** An EKS managed nodegroup: capacity for Deployments, nodes become ready after a delay. */
const Nodegroup = z.strictObject({
  /** The EKS cluster name in NodegroupRef (`cloud.eks.cluster`). */
  cluster: Name,
  name: Name,
  podsPerNode: z.number().int().positive().default(10),
  initialNodes: z.number().int().min(0).default(0),
});
export type NodegroupSpec = z.infer<typeof Nodegroup>;

/** A Deployment whose ready pods are the service's endpoints in this site; pods spread over its zones. */
const Deployment = z.strictObject({
  namespace: Name,
  name: Name,
  service: ServiceRef,
  /** The nodegroup its pods need room on; absent: unlimited room. */
  nodegroup: Name.optional(),
  initialReplicas: z.number().int().min(0).default(0),
});
export type DeploymentSpec = z.infer<typeof Deployment>;

export const SiteKind = z.enum(['kubernetes', 'consul', 'nomad', 'eks']);
export type SiteKind = z.infer<typeof SiteKind>;

/** One registry (cluster) and the zones it spans. Its name is the catalog's source/cluster name. */
const Site = z.strictObject({
  name: Name,
  kind: SiteKind,
  environment: Environment,
  region: Name,
  zones: z.array(Name).min(1),
  services: z.array(SiteService).default([]),
  nodegroups: z.array(Nodegroup).default([]),
  deployments: z.array(Deployment).default([]),
});
export type SiteSpec = z.infer<typeof Site>;

/** A trapezoid of extra load: ramp up, hold at `peakRps`, ramp down. */
const Surge = z.strictObject({
  atSeconds: z.number().min(0),
  rampSeconds: z.number().min(0).default(30),
  holdSeconds: Seconds,
  peakRps: z.number().positive(),
});
export type Surge = z.infer<typeof Surge>;

/** One service's demand and how its endpoints respond to it. */
const ServiceLoad = z.strictObject({
  service: ServiceRef,
  baselineRps: z.number().min(0),
  surges: z.array(Surge).default([]),
  /** Requests per second one endpoint serves before it saturates (M/M/1 service rate μ). */
  capacityRpsPerEndpoint: z.number().positive(),
  /** p99 of an idle endpoint; grows as base / (1 − utilisation). */
  p99BaseSeconds: Seconds.default(0.05),
  /** The p99 a saturated endpoint shows (timeouts cut the tail there). */
  p99CapSeconds: Seconds.default(2),
  /** Errors that happen anyway (bugs, client cancellations). */
  baseErrorRatio: z.number().min(0).max(1).default(0.0005),
  /**
   * Deterministic noise on the demand: ±this fraction, a new value every `noisePeriodSeconds`
   * (a hash of the period's index and the service, so a run is reproducible). 0: none.
   */
  noiseRatio: z.number().min(0).max(0.5).default(0),
  noisePeriodSeconds: Seconds.default(5),
});
export type ServiceLoad = z.infer<typeof ServiceLoad>;

/** How long the cloud takes, in simulated seconds. */
const CloudTiming = z.strictObject({
  /** From UpdateNodegroupConfig to a new node being ready (EKS: a few minutes). */
  nodeReadySeconds: z.number().min(0).default(90),
  /** From a pod being scheduled on a ready node to passing its readiness probe. */
  podReadySeconds: z.number().min(0).default(20),
  /** From ChangeResourceRecordSets to INSYNC (Route 53: usually under a minute). */
  dnsSyncSeconds: z.number().min(0).default(30),
});

export const Scenario = z
  .strictObject({
    name: z.string().min(1),
    sites: z.array(Site).min(1),
    load: z.array(ServiceLoad).default([]),
    cloud: CloudTiming.default({ nodeReadySeconds: 90, podReadySeconds: 20, dnsSyncSeconds: 30 }),
    /** Resolution of the metrics history behind the Prometheus-shaped answers. */
    sampleSeconds: Seconds.default(5),
    /** Burst policies matching this world, with their intervals in simulated seconds. */
    policies: z.array(BurstPolicy).default([]),
  })
  .superRefine((scenario, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const sites = new Set<string>();
    const zones = new Set<string>();
    const services = new Set<string>();
    scenario.sites.forEach((site, i) => {
      if (sites.has(site.name)) issue(['sites', i, 'name'], `duplicate site "${site.name}"`);
      sites.add(site.name);
      site.zones.forEach((zone, z) => {
        if (zones.has(zone)) issue(['sites', i, 'zones', z], `zone "${zone}" is in two sites`);
        zones.add(zone);
      });
      for (const service of site.services) services.add(service.service);
      const nodegroups = new Set(site.nodegroups.map((nodegroup) => nodegroup.name));
      site.deployments.forEach((deployment, d) => {
        services.add(deployment.service);
        if (site.kind !== 'kubernetes' && site.kind !== 'eks') {
          issue(['sites', i, 'deployments', d], `a ${site.kind} site has no Deployments`);
        }
        if (deployment.nodegroup !== undefined && !nodegroups.has(deployment.nodegroup)) {
          issue(['sites', i, 'deployments', d, 'nodegroup'], `no nodegroup "${deployment.nodegroup}" in this site`);
        }
      });
    });
    scenario.load.forEach((load, l) => {
      if (!services.has(load.service)) issue(['load', l, 'service'], `no site runs "${load.service}"`);
    });
  });
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
