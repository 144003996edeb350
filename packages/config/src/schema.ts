import { BurstPolicy, Environment, Health, MeshSecurity, ServiceName, spiffeTrustDomain } from '@spillway/model';
import { z } from 'zod';

/** `host:port`, host may be an IPv4, a name or a bracketed IPv6. */
const HostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7070');

const Url = z.url({ error: 'expected a URL such as http://127.0.0.1:8500' });

/** Secrets never sit in the file: a field ending in `Env` names the variable holding them. */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

const Seconds = z.number().positive();

const StaticEndpoint = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  zone: z.string().default(''),
  subZone: z.string().default(''),
  health: Health.default('healthy'),
  weight: z.number().int().min(1).max(128).default(1),
  labels: z.record(z.string(), z.string()).default({}),
});

const StaticService = z.strictObject({
  name: ServiceName,
  namespace: ServiceName.default('default'),
  endpoints: z.array(StaticEndpoint),
});

const ClusterBase = {
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a lowercase name (a-z, 0-9, "-")'),
  environment: Environment,
  region: z.string().min(1),
  /** How long a failing source keeps its endpoints before they are served unhealthy. */
  staleAfterSeconds: Seconds.optional(),
};

/**
 * Consul and Nomad have no Kubernetes namespace of their own. Spillway's namespace for one of
 * their services is, in order: the service's meta/tag value under `fromMeta`, then `default`.
 */
const NamespaceMapping = z
  .strictObject({
    default: ServiceName.default('default'),
    fromMeta: z.string().optional(),
  })
  .default({ default: 'default' });

export const StaticCluster = z.strictObject({
  ...ClusterBase,
  kind: z.literal('static'),
  services: z.array(StaticService).default([]),
});

export const KubernetesCluster = z.strictObject({
  ...ClusterBase,
  kind: z.literal('kubernetes'),
  /** Path to a kubeconfig; absent: in-cluster config or $KUBECONFIG / ~/.kube/config. */
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  /** Only these namespaces; absent: all namespaces. */
  namespaces: z.array(ServiceName).optional(),
});

export const ConsulCluster = z.strictObject({
  ...ClusterBase,
  kind: z.literal('consul'),
  address: Url,
  datacenter: z.string().optional(),
  tokenEnv: EnvName.optional(),
  namespace: NamespaceMapping,
  /** Blocking-query wait, seconds (Consul caps it at 600). */
  waitSeconds: z.number().int().min(1).max(600).default(300),
});

export const NomadCluster = z.strictObject({
  ...ClusterBase,
  kind: z.literal('nomad'),
  address: Url,
  tokenEnv: EnvName.optional(),
  /** Nomad namespaces to read; `*` reads all of them. */
  nomadNamespace: z.string().default('*'),
  namespace: NamespaceMapping,
  waitSeconds: z.number().int().min(1).max(600).default(300),
});

export const EksCluster = z.strictObject({
  ...ClusterBase,
  kind: z.literal('eks'),
  /** EKS cluster names to watch; absent: every cluster ListClusters returns in the region. */
  clusterNames: z.array(z.string().min(1)).optional(),
  /** Override of the EKS API endpoint (tests, VPC endpoints). */
  eksEndpoint: Url.optional(),
  namespaces: z.array(ServiceName).optional(),
});

export const ClusterConfig = z.discriminatedUnion('kind', [
  StaticCluster,
  KubernetesCluster,
  ConsulCluster,
  NomadCluster,
  EksCluster,
]);
export type ClusterConfig = z.infer<typeof ClusterConfig>;
export type StaticClusterConfig = z.infer<typeof StaticCluster>;
export type KubernetesClusterConfig = z.infer<typeof KubernetesCluster>;
export type ConsulClusterConfig = z.infer<typeof ConsulCluster>;
export type NomadClusterConfig = z.infer<typeof NomadCluster>;
export type EksClusterConfig = z.infer<typeof EksCluster>;

/** viewer reads, operator starts and aborts bursts, admin does everything; webhook may only post alerts. */
export const Role = z.enum(['viewer', 'operator', 'admin', 'webhook']);
export type Role = z.infer<typeof Role>;

const Token = z.strictObject({
  name: z.string().min(1),
  role: Role,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the hex SHA-256 of the token (64 lowercase hex digits)'),
});

export const FederationSettings = z
  .strictObject({
    /** Default grace period for a failing source before its endpoints go unhealthy. */
    staleAfterSeconds: Seconds.default(60),
    /** How many catalog changes the change feed keeps for followers that fall behind. */
    changeHistory: z.number().int().min(16).max(1_000_000).default(4096),
    /**
     * After a start, how long the first catalog waits for every source's first complete report
     * before it is published without the silent ones (which then count as failing).
     */
    initialSyncSeconds: Seconds.default(30),
  })
  .default({ staleAfterSeconds: 60, changeHistory: 4096, initialSyncSeconds: 30 });

const FilePath = z.string().min(1, 'expected a file path');

/** How many entries one audit class keeps (see docs/operations.md#audit-log). */
const AuditCap = z.number().int().min(100).max(10_000_000);

/** What the controller keeps of its history: ended bursts and the audit classes. */
export const RetentionSettings = z
  .strictObject({
    /** Ended bursts: at most maxCount, none older than maxAgeDays (active bursts are always kept). */
    bursts: z
      .strictObject({
        maxCount: z.number().int().min(1).max(1_000_000).default(1000),
        maxAgeDays: z.number().positive().max(3650).default(7),
      })
      .default({ maxCount: 1000, maxAgeDays: 7 }),
    /** Per audit class, the newest entries kept; a class never evicts another's entries. */
    audit: z
      .strictObject({
        operator: AuditCap.default(20_000),
        decision: AuditCap.default(100_000),
        signal: AuditCap.default(10_000),
        denial: AuditCap.default(2_000),
      })
      .default({ operator: 20_000, decision: 100_000, signal: 10_000, denial: 2_000 }),
  })
  .default({
    bursts: { maxCount: 1000, maxAgeDays: 7 },
    audit: { operator: 20_000, decision: 100_000, signal: 10_000, denial: 2_000 },
  });
export type RetentionSettings = z.infer<typeof RetentionSettings>;

/** A listener's certificate and key (PEM files, re-read when they change). */
const ServerTls = {
  certFile: FilePath,
  keyFile: FilePath,
};

export const TlsConfig = z.strictObject({
  /** xDS: TLS only, and mutual: every client must present a certificate signed by clientCaFile. */
  xds: z.strictObject({ ...ServerTls, clientCaFile: FilePath }).optional(),
  /** HTTP API: HTTPS only; with clientCaFile, API clients must present a certificate it signed. */
  http: z.strictObject({ ...ServerTls, clientCaFile: FilePath.optional() }).optional(),
  /**
   * Plain HTTP beyond loopback is refused (bearer tokens would cross the network in clear) unless
   * a TLS-terminating proxy in front of Spillway does the encryption and this says so.
   */
  plaintextHttpBehindProxy: z.boolean().default(false),
  /** CA bundle that signs the other Spillway services' certificates (router → federation, CLI). */
  caFile: FilePath.optional(),
});
export type TlsConfig = z.infer<typeof TlsConfig>;

/** A locality a client may claim; without `zone` any zone of the region, without `subZone` any sub-zone. */
const LocalityGrant = z
  .strictObject({
    region: z.string().min(1),
    zone: z.string().min(1).optional(),
    subZone: z.string().min(1).optional(),
  })
  .refine((grant) => grant.subZone === undefined || grant.zone !== undefined, {
    message: 'subZone needs a zone',
    path: ['subZone'],
  });

/** `NAME.NS`, where either part may use `*` (any run of characters): `cart.shop`, `*.shop`. */
const ServicePattern = z
  .string()
  .regex(
    /^[a-z0-9*]([-a-z0-9_*]*[a-z0-9*])?\.[a-z0-9*]([-a-z0-9_*]*[a-z0-9*])?$/,
    'expected NAME.NS, e.g. cart.shop or *.shop',
  );

/** A SPIFFE ID (`spiffe://lab/ns/shop/sa/cart`) or a certificate CN; `*` matches any run of characters but `/`. */
const IdentityPattern = z.string().regex(/^\S+$/, 'expected an identity such as spiffe://lab/ns/shop/sa/*');

/**
 * Who may learn what from the xDS port. A client matching no rule is refused; a rule without
 * `localities` or `services` does not restrict that (see docs/security.md#xds-authorization).
 */
export const XdsAuthorization = z.strictObject({
  rules: z
    .array(
      z.strictObject({
        identity: IdentityPattern,
        localities: z.array(LocalityGrant).min(1).optional(),
        services: z.array(ServicePattern).min(1).optional(),
      }),
    )
    .min(1, 'expected at least one rule (leave xdsAuthorization out to let every authenticated client in)'),
});
export type XdsAuthorization = z.infer<typeof XdsAuthorization>;

/** How the burst controller takes Alertmanager's alerts (see docs/burst-controller.md#signals). */
export const AlertsSettings = z
  .strictObject({
    /**
     * Alertmanager's base URL, asked (GET /api/v2/alerts) for the members of a group whose
     * notification `max_alerts` truncated. Absent: the notification's `externalURL`, if
     * `useExternalUrl`.
     */
    alertmanagerUrl: Url.optional(),
    /** Trust the webhook's `externalURL` to say where Alertmanager is (when no URL is configured). */
    useExternalUrl: z.boolean().default(true),
    /** How long that query may take before the notification is taken as it is. */
    queryTimeoutSeconds: Seconds.max(30).default(5),
    /** A firing alert not re-sent by Alertmanager within this is forgotten (keep repeat_interval well under). */
    expirySeconds: z.number().int().min(60).default(3600),
  })
  .default({ useExternalUrl: true, queryTimeoutSeconds: 5, expirySeconds: 3600 });
export type AlertsSettings = z.infer<typeof AlertsSettings>;

/** The locality router as its own process (`spillway router`). */
export const RouterSettings = z
  .strictObject({
    /**
     * Where the router keeps its last good catalog (written atomically). At start it serves this
     * file's catalog at once while the federation is unreachable. Absent: no snapshot.
     */
    snapshotFile: FilePath.optional(),
    /** How often, at most, the snapshot is rewritten (when the catalog changed, or to keep its age current). */
    snapshotIntervalSeconds: Seconds.default(10),
  })
  .default({ snapshotIntervalSeconds: 10 });
export type RouterSettings = z.infer<typeof RouterSettings>;

/**
 * Load reports from the data plane (LRS on the xDS port; see docs/locality-router.md#load-reports-lrs).
 * On by default: Clusters then name the router as their LRS server and gRPC clients report to it.
 */
export const LoadReportingSettings = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** How often clients report (sent to them in LoadStatsResponse). */
    intervalSeconds: z.number().int().min(1, 'expected at least 1 second').max(3600).default(10),
    /**
     * Distributed mode (redis): how often each router publishes what its clients reported to
     * Redis, where the controller sums every router's load.
     */
    publishIntervalSeconds: z.number().int().min(1, 'expected at least 1 second').max(60).default(5),
  })
  .default({ enabled: true, intervalSeconds: 10, publishIntervalSeconds: 5 });
export type LoadReportingSettings = z.infer<typeof LoadReportingSettings>;

/** A duration of at least `min` seconds, saying so when it is less. */
const SecondsAtLeast = (min: number) => z.number().min(min, `expected at least ${min} seconds`);

/**
 * The controllers' lease (who decides) and the action jobs' locks (who runs a job), in Redis
 * (distributed mode): how fast a standby takes over from a dead leader, and a job from a dead
 * worker. See docs/operations.md#failover-timing. Embedded mode without Redis has neither.
 */
export const ControllerSettings = z
  .strictObject({
    /** How long the lease lives without a renewal: a dead leader is replaced within about this. */
    leaseSeconds: SecondsAtLeast(3).max(300).default(10),
    /** How often the leader renews the lease; absent, a third of leaseSeconds (one failed renewal is survived). */
    renewSeconds: SecondsAtLeast(0.5).optional(),
    /**
     * A worker's lock on a running action job, and how often workers look for lapsed ones: a
     * dead worker's job is taken up by another within about twice this.
     */
    jobLockSeconds: SecondsAtLeast(5).max(3600).default(30),
  })
  .superRefine((settings, ctx) => {
    const { leaseSeconds, renewSeconds } = settings;
    // The leader steps down at 90% of the lease after its last renewal (RedisLease): a renewal
    // past half of it leaves no room for a slow one.
    if (renewSeconds === undefined || renewSeconds <= leaseSeconds / 2) return;
    ctx.addIssue({
      code: 'custom',
      path: ['renewSeconds'],
      message: `${renewSeconds} s is more than half of leaseSeconds (${leaseSeconds} s): a renewal must land before the leader steps down at 90% of the lease; choose at most ${leaseSeconds / 2} s (a third, ${round(leaseSeconds / 3)} s, survives one failed renewal)`,
    });
  })
  .default({ leaseSeconds: 10, jobLockSeconds: 30 });
export type ControllerSettings = z.infer<typeof ControllerSettings>;

/** How often the leader renews its lease: `renewSeconds`, else a third of `leaseSeconds`. */
export function leaseRenewSeconds(settings: ControllerSettings): number {
  return settings.renewSeconds ?? settings.leaseSeconds / 3;
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

/**
 * BurstPolicy and Drill custom resources (spillway.dev/v1alpha1) watched by the controller next
 * to the config file (docs/kubernetes.md#custom-resources). Absent: no watch.
 */
export const CustomResourcesSettings = z.strictObject({
  /** Watch this namespace only; absent: every namespace (needs a ClusterRole). */
  namespace: ServiceName.optional(),
  /** Path to a kubeconfig; absent: in-cluster config or $KUBECONFIG / ~/.kube/config. */
  kubeconfig: FilePath.optional(),
  context: z.string().min(1).optional(),
  /** Run Drill resources through the drill service (`spillway up`); `spillway controller`, which has none, marks them Error saying so. */
  drills: z.boolean().default(true),
  /** How often BurstPolicy status (phase, share) is compared with the burst and patched when it differs. */
  statusIntervalSeconds: Seconds.max(300).default(5),
});
export type CustomResourcesSettings = z.infer<typeof CustomResourcesSettings>;

export const SpillwayConfig = z
  .strictObject({
    listen: z
      .strictObject({
        http: HostPort.default('127.0.0.1:7070'),
        xds: HostPort.default('127.0.0.1:18000'),
      })
      .default({ http: '127.0.0.1:7070', xds: '127.0.0.1:18000' }),
    redis: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .optional(),
    /** CA bundle for a `rediss://` server whose certificate is not in the system store. */
    redisCaFile: FilePath.optional(),
    /** Environment variable holding the Redis password (never in the URL or the file). */
    redisPasswordEnv: EnvName.optional(),
    tls: TlsConfig.default({ plaintextHttpBehindProxy: false }),
    xdsAuthorization: XdsAuthorization.optional(),
    auth: z.strictObject({ tokens: z.array(Token).default([]) }).default({ tokens: [] }),
    federation: FederationSettings,
    router: RouterSettings,
    loadReporting: LoadReportingSettings,
    retention: RetentionSettings,
    clusters: z.array(ClusterConfig).default([]),
    /** Per-service bursting policies (see docs/burst-controller.md). */
    policies: z.array(BurstPolicy).default([]),
    /** Service-to-service mTLS published through xDS (see docs/mesh-security.md). */
    security: MeshSecurity.optional(),
    alerts: AlertsSettings,
    customResources: CustomResourcesSettings.optional(),
    controller: ControllerSettings,
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.clusters.forEach((cluster, index) => {
      const first = seen.get(cluster.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', index, 'name'],
          message: `duplicate cluster name "${cluster.name}" (first at clusters[${first}])`,
        });
      } else seen.set(cluster.name, index);
    });
    checkPolicies(config, seen, ctx);
    checkSecurity(config, ctx);
    if (config.xdsAuthorization && !config.tls.xds) {
      ctx.addIssue({
        code: 'custom',
        path: ['xdsAuthorization'],
        message: 'needs tls.xds: identities come from client certificates',
      });
    }
  });

/**
 * Mesh security entries must name a service Spillway knows from the config (a burst policy or a
 * static endpoint list), use the configured trust domain, and say who the servers are whenever
 * TLS is on: without an identity a client would accept any certificate the CA ever signed.
 */
function checkSecurity(
  config: { security?: MeshSecurity | undefined; policies: BurstPolicy[]; clusters: ClusterConfig[] },
  ctx: z.RefinementCtx,
): void {
  const security = config.security;
  if (!security) return;
  const known = new Set(config.policies.map((policy) => policy.service));
  for (const cluster of config.clusters) {
    if (cluster.kind === 'static')
      for (const service of cluster.services) known.add(`${service.name}.${service.namespace}`);
  }
  const seen = new Set<string>();
  security.services.forEach((entry, index) => {
    const at = (...path: (string | number)[]) => ['security', 'services', index, ...path];
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (seen.has(entry.service)) issue(at('service'), `second security entry for ${entry.service}`);
    seen.add(entry.service);
    if (!known.has(entry.service)) {
      issue(at('service'), `${entry.service} is in no burst policy and no static cluster of this file`);
    }
    if (entry.mtls !== 'DISABLE' && !entry.identity) {
      issue(at('identity'), `mtls ${entry.mtls} needs the servers' identity (spiffe://${security.trustDomain}/…)`);
    }
    if (entry.mtls === 'DISABLE' && entry.allowedCallers.length > 0) {
      issue(
        at('allowedCallers'),
        'callers cannot be authorized without TLS: use STRICT or PERMISSIVE, or drop allowedCallers',
      );
    }
    const ids: [string, (string | number)[]][] = [
      ...(entry.identity ? [[entry.identity, at('identity')] as [string, (string | number)[]]] : []),
      ...entry.allowedCallers.map((caller, i): [string, (string | number)[]] => [caller, at('allowedCallers', i)]),
    ];
    for (const [id, path] of ids) {
      const domain = spiffeTrustDomain(id);
      // A malformed ID (undefined domain) was already reported by its own field.
      if (domain !== undefined && domain !== security.trustDomain) {
        issue(path, `trust domain "${domain}" is not the configured trustDomain "${security.trustDomain}"`);
      }
    }
  });
}

function checkPolicies(config: { policies: BurstPolicy[] }, clusters: Map<string, number>, ctx: z.RefinementCtx): void {
  const services = new Set<string>();
  config.policies.forEach((policy, index) => {
    if (services.has(policy.service)) {
      ctx.addIssue({
        code: 'custom',
        path: ['policies', index, 'service'],
        message: `second policy for ${policy.service}`,
      });
    }
    services.add(policy.service);
    const deployment = policy.cloud.deployment?.cluster;
    if (deployment && !clusters.has(deployment)) {
      ctx.addIssue({
        code: 'custom',
        path: ['policies', index, 'cloud', 'deployment', 'cluster'],
        message: `no cluster named "${deployment}" in clusters`,
      });
    }
  });
}
export type SpillwayConfig = z.infer<typeof SpillwayConfig>;
/** What a config file may say: SpillwayConfig before its defaults are filled in. */
export type SpillwayConfigInput = z.input<typeof SpillwayConfig>;
