import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureJson } from '../fixtures/index.js';

/**
 * A fake of the EKS REST-JSON API (2017-11-01) for ListClusters and DescribeCluster, answering
 * like the recorded payloads: `{cluster:{…}}` with epoch-number timestamps, `endpoint: null`
 * and `certificateAuthority.data: null` while CREATING, errors as `x-amzn-ErrorType` plus a
 * `{message}` body (404 ResourceNotFoundException, 429 ThrottlingException, which the SDK retries).
 * Requests must carry a SigV4 Authorization header for the expected access key.
 *
 * Managed nodegroups: DescribeNodegroup (`GET /clusters/{name}/node-groups/{ng}`, shaped like
 * aws-eks-describenodegroup.apiref.json) and UpdateNodegroupConfig
 * (`POST /clusters/{name}/node-groups/{ng}/update-config`, answered like
 * aws-eks-updatenodegroupconfig.apiref.response.json). An accepted update sets scalingConfig at
 * once and puts the nodegroup in UPDATING; it becomes ACTIVE (or DEGRADED, see `failUpdates`)
 * after `updateDescribes` DescribeNodegroup calls, or when the test calls `finishUpdate`. While an
 * update is in progress a second one is refused with 409 ResourceInUseException; a scalingConfig
 * that breaks minSize ≤ desiredSize ≤ maxSize is a 400 InvalidParameterException. A repeated
 * clientRequestToken returns the first answer and changes nothing (EKS's idempotency token).
 */

export interface FakeEksCluster {
  readonly name: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';
  endpoint: string | null;
  /** base64 of the PEM CA bundle, as EKS returns it. */
  caData: string | null;
}

export interface EksRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  status: number;
  /** The parsed JSON body of a POST (UpdateNodegroupConfig), undefined otherwise. */
  body?: unknown;
}

export type FakeNodegroupStatus =
  | 'CREATING'
  | 'ACTIVE'
  | 'UPDATING'
  | 'DELETING'
  | 'CREATE_FAILED'
  | 'DELETE_FAILED'
  | 'DEGRADED';

export interface FakeHealthIssue {
  readonly code: string;
  readonly message: string;
  readonly resourceIds?: readonly string[];
}

export interface FakeNodegroup {
  readonly cluster: string;
  readonly name: string;
  status: FakeNodegroupStatus;
  minSize: number;
  maxSize: number;
  desiredSize: number;
  issues: FakeHealthIssue[];
  /**
   * How many DescribeNodegroup calls an accepted update stays UPDATING for before it settles
   * (default 2); `'manual'`: it stays UPDATING until the test calls `finishUpdate`.
   */
  updateDescribes: number | 'manual';
  /** When set, updates settle in DEGRADED with these health issues instead of ACTIVE. */
  failUpdates: FakeHealthIssue[] | undefined;
  /** The update in progress, if any. */
  update: { id: string; describesLeft: number | 'manual' } | undefined;
  modifiedAt: number;
}

/** The DEGRADED health issue recorded in the eks-workshop fixture (AsgInstanceLaunchFailures). */
export const DEGRADED_ISSUES: readonly FakeHealthIssue[] = fixtureJson<{
  describe_nodegroup_DEGRADED_partial: { nodegroup: { health: { issues: FakeHealthIssue[] } } };
}>('aws-eks-cli-outputs.eks-workshop.json').describe_nodegroup_DEGRADED_partial.nodegroup.health.issues;

const TEMPLATE = fixtureJson<{ cluster: Record<string, unknown> }>('aws-eks-describecluster.apiref.json').cluster;
const NODEGROUP_TEMPLATE = fixtureJson<{ nodegroup: Record<string, unknown> }>(
  'aws-eks-describenodegroup.apiref.json',
).nodegroup;
const UPDATE_TEMPLATE = fixtureJson<{ update: Record<string, unknown> }>(
  'aws-eks-updatenodegroupconfig.apiref.response.json',
).update;

type Reply = (status: number, body: unknown, errorType?: string) => void;

export class FakeEksApi {
  readonly requests: EksRequestRecord[] = [];
  /** ListClusters page size when the client sends no maxResults (EKS's default is 100). */
  pageSize = 100;
  private readonly clusters = new Map<string, FakeEksCluster>();
  private readonly nodegroups = new Map<string, FakeNodegroup>();
  /** clientRequestToken → the answer first given for it. */
  private readonly tokens = new Map<string, { status: number; body: unknown; errorType?: string }>();
  private throttles = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly accessKeyId: string,
  ) {}

  static async start(options: { accessKeyId?: string } = {}): Promise<FakeEksApi> {
    let api: FakeEksApi | undefined;
    const server = createServer((request, response) => api?.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    api = new FakeEksApi(server, `http://127.0.0.1:${port}`, options.accessKeyId ?? 'AKIDEXAMPLE');
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  setCluster(cluster: FakeEksCluster): void {
    this.clusters.set(cluster.name, { ...cluster });
  }

  removeCluster(name: string): void {
    this.clusters.delete(name);
  }

  /** The next `count` requests get 429 ThrottlingException. */
  throttleNext(count: number): void {
    this.throttles += count;
  }

  /** Creates or replaces a managed nodegroup (ACTIVE, no health issues, unless stated). */
  setNodegroup(
    nodegroup: Pick<FakeNodegroup, 'cluster' | 'name' | 'minSize' | 'maxSize' | 'desiredSize'> &
      Partial<Pick<FakeNodegroup, 'status' | 'issues' | 'updateDescribes' | 'failUpdates'>>,
  ): FakeNodegroup {
    const stored: FakeNodegroup = {
      status: 'ACTIVE',
      issues: [],
      updateDescribes: 2,
      failUpdates: undefined,
      update: undefined,
      modifiedAt: epochNow(),
      ...nodegroup,
    };
    this.nodegroups.set(`${nodegroup.cluster}/${nodegroup.name}`, stored);
    return stored;
  }

  /** The live state of a nodegroup (tests read and change it directly). */
  nodegroup(cluster: string, name: string): FakeNodegroup {
    const nodegroup = this.nodegroups.get(`${cluster}/${name}`);
    if (!nodegroup) throw new Error(`fake eks: no nodegroup ${cluster}/${name}`);
    return nodegroup;
  }

  /** Starts an update as another actor would (console, autoscaler): UPDATING until it settles. */
  startForeignUpdate(cluster: string, name: string, desiredSize?: number): void {
    const nodegroup = this.nodegroup(cluster, name);
    if (desiredSize !== undefined) nodegroup.desiredSize = desiredSize;
    this.beginUpdate(nodegroup);
  }

  /** Ends the nodegroup's update in progress now (ACTIVE, or DEGRADED with `failUpdates`). */
  finishUpdate(cluster: string, name: string): void {
    this.settle(this.nodegroup(cluster, name));
  }

  /** Puts the nodegroup in DEGRADED with health issues (default: the recorded ASG launch failure). */
  degrade(cluster: string, name: string, issues: readonly FakeHealthIssue[] = DEGRADED_ISSUES): void {
    const nodegroup = this.nodegroup(cluster, name);
    nodegroup.update = undefined;
    nodegroup.status = 'DEGRADED';
    nodegroup.issues = [...issues];
  }

  /** UpdateNodegroupConfig requests for one nodegroup, in order (accepted or not). */
  updateRequests(cluster: string, name: string): EksRequestRecord[] {
    const path = `/clusters/${encodeURIComponent(cluster)}/node-groups/${encodeURIComponent(name)}/update-config`;
    return this.requests.filter((record) => record.method === 'POST' && record.path === path);
  }

  /** DescribeNodegroup requests for one nodegroup. */
  describeRequests(cluster: string, name: string): EksRequestRecord[] {
    const path = `/clusters/${encodeURIComponent(cluster)}/node-groups/${encodeURIComponent(name)}`;
    return this.requests.filter((record) => record.method === 'GET' && record.path === path);
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => this.dispatch(request, response, Buffer.concat(chunks).toString('utf8')));
  }

  private dispatch(request: IncomingMessage, response: ServerResponse, text: string) {
    const url = new URL(request.url ?? '/', 'http://fake');
    const record: EksRequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    this.requests.push(record);
    const reply: Reply = (status, body, errorType) => {
      record.status = status;
      response.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': crypto.randomUUID(),
        ...(errorType
          ? { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazonaws.eks/` }
          : {}),
      });
      response.end(JSON.stringify(body));
    };
    const auth = request.headers.authorization ?? '';
    if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/`) || !auth.includes('Signature=')) {
      return reply(
        403,
        { message: 'The security token included in the request is invalid.' },
        'UnrecognizedClientException',
      );
    }
    if (this.throttles > 0) {
      this.throttles--;
      return reply(429, { message: 'Rate exceeded' }, 'ThrottlingException');
    }
    if (record.method === 'GET' && url.pathname === '/clusters') return reply(200, this.list(record.query));
    const nodegroupPath = /^\/clusters\/([^/]+)\/node-groups\/([^/]+)(\/update-config)?$/.exec(url.pathname);
    if (nodegroupPath?.[1] && nodegroupPath[2]) {
      const clusterName = decodeURIComponent(nodegroupPath[1]);
      const name = decodeURIComponent(nodegroupPath[2]);
      const nodegroup = this.nodegroups.get(`${clusterName}/${name}`);
      if (!nodegroup) {
        return reply(404, { message: `No node group found for name: ${name}.` }, 'ResourceNotFoundException');
      }
      if (record.method === 'GET' && !nodegroupPath[3])
        return reply(200, { nodegroup: this.describeNodegroup(nodegroup) });
      if (record.method === 'POST' && nodegroupPath[3]) {
        let body: unknown;
        try {
          body = JSON.parse(text || '{}');
        } catch {
          return reply(400, { message: 'Request body is not valid JSON' }, 'SerializationException');
        }
        record.body = body;
        return this.updateConfig(nodegroup, body, reply);
      }
    }
    const describe = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    const cluster = describe?.[1] ? this.clusters.get(decodeURIComponent(describe[1])) : undefined;
    if (record.method === 'GET' && describe) {
      if (!cluster)
        return reply(404, { message: `No cluster found for name: ${describe[1]}.` }, 'ResourceNotFoundException');
      return reply(200, { cluster: describeBody(cluster) });
    }
    reply(404, { message: 'Not found' }, 'ResourceNotFoundException');
  }

  /** DescribeNodegroup counts down an update in progress, so "ACTIVE after N describes" holds. */
  private describeNodegroup(nodegroup: FakeNodegroup): Record<string, unknown> {
    const update = nodegroup.update;
    if (update && update.describesLeft !== 'manual') {
      if (update.describesLeft <= 0) this.settle(nodegroup);
      else update.describesLeft--;
    }
    return nodegroupBody(nodegroup);
  }

  private updateConfig(nodegroup: FakeNodegroup, body: unknown, reply: Reply) {
    const request = (typeof body === 'object' && body !== null ? body : {}) as {
      clientRequestToken?: unknown;
      scalingConfig?: { minSize?: unknown; maxSize?: unknown; desiredSize?: unknown };
    };
    const token = typeof request.clientRequestToken === 'string' ? request.clientRequestToken : undefined;
    const tokenKey = token ? `${nodegroup.cluster}/${nodegroup.name}/${token}` : undefined;
    const seen = tokenKey ? this.tokens.get(tokenKey) : undefined;
    if (seen) return reply(seen.status, seen.body, seen.errorType);
    const remember: Reply = (status, answer, errorType) => {
      if (tokenKey && status === 200)
        this.tokens.set(tokenKey, { status, body: answer, ...(errorType ? { errorType } : {}) });
      reply(status, answer, errorType);
    };
    if (nodegroup.update || nodegroup.status === 'UPDATING') {
      return reply(
        409,
        {
          message: `Nodegroup ${nodegroup.name} in cluster ${nodegroup.cluster} currently has update ${nodegroup.update?.id ?? 'unknown'} in progress`,
          clusterName: nodegroup.cluster,
          nodegroupName: nodegroup.name,
        },
        'ResourceInUseException',
      );
    }
    if (nodegroup.status !== 'ACTIVE' && nodegroup.status !== 'DEGRADED') {
      return reply(
        400,
        { message: `Nodegroup ${nodegroup.name} is in ${nodegroup.status} state and cannot be updated` },
        'InvalidRequestException',
      );
    }
    const scaling = request.scalingConfig;
    if (!scaling || typeof scaling !== 'object') {
      return reply(400, { message: 'No changes needed for the nodegroup config' }, 'InvalidParameterException');
    }
    const fields = { minSize: scaling.minSize, maxSize: scaling.maxSize, desiredSize: scaling.desiredSize };
    for (const [field, value] of Object.entries(fields)) {
      if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0)) {
        return reply(400, { message: `${field} must be a non-negative integer` }, 'InvalidParameterException');
      }
    }
    const next = {
      minSize: (fields.minSize as number | undefined) ?? nodegroup.minSize,
      maxSize: (fields.maxSize as number | undefined) ?? nodegroup.maxSize,
      desiredSize: (fields.desiredSize as number | undefined) ?? nodegroup.desiredSize,
    };
    const invalid =
      next.maxSize < 1
        ? `Maximum capacity ${next.maxSize} can't be less than 1`
        : next.minSize > next.maxSize
          ? `Minimum capacity ${next.minSize} can't be greater than max size ${next.maxSize}`
          : next.minSize > next.desiredSize
            ? `Minimum capacity ${next.minSize} can't be greater than desired size ${next.desiredSize}`
            : next.desiredSize > next.maxSize
              ? `Desired capacity ${next.desiredSize} can't be greater than max size ${next.maxSize}`
              : undefined;
    if (invalid)
      return reply(
        400,
        { message: invalid, clusterName: nodegroup.cluster, nodegroupName: nodegroup.name },
        'InvalidParameterException',
      );
    Object.assign(nodegroup, next);
    const id = this.beginUpdate(nodegroup);
    const params = (
      [
        ['MinSize', fields.minSize],
        ['MaxSize', fields.maxSize],
        ['DesiredSize', fields.desiredSize],
      ] as const
    )
      .filter(([, value]) => value !== undefined)
      .map(([type, value]) => ({ type, value: String(value) }));
    return remember(200, {
      update: {
        ...structuredClone(UPDATE_TEMPLATE),
        id,
        status: 'InProgress',
        params,
        createdAt: epochNow(),
        errors: [],
      },
    });
  }

  private beginUpdate(nodegroup: FakeNodegroup): string {
    const id = crypto.randomUUID();
    nodegroup.update = { id, describesLeft: nodegroup.updateDescribes };
    nodegroup.status = 'UPDATING';
    nodegroup.modifiedAt = epochNow();
    return id;
  }

  private settle(nodegroup: FakeNodegroup): void {
    nodegroup.update = undefined;
    nodegroup.modifiedAt = epochNow();
    if (nodegroup.failUpdates) {
      nodegroup.status = 'DEGRADED';
      nodegroup.issues = [...nodegroup.failUpdates];
    } else {
      nodegroup.status = 'ACTIVE';
    }
  }

  private list(query: Record<string, string>): { clusters: string[]; nextToken: string | null } {
    const names = [...this.clusters.keys()].sort();
    const size = Number(query.maxResults) || this.pageSize;
    const start = query.nextToken ? Number(Buffer.from(query.nextToken, 'base64url').toString()) : 0;
    const page = names.slice(start, start + size);
    const next = start + size < names.length ? Buffer.from(String(start + size)).toString('base64url') : null;
    return { clusters: page, nextToken: next };
  }
}

function epochNow(): number {
  return Math.round(Date.now()) / 1000;
}

function nodegroupBody(nodegroup: FakeNodegroup): Record<string, unknown> {
  const template = structuredClone(NODEGROUP_TEMPLATE);
  return {
    ...template,
    nodegroupName: nodegroup.name,
    nodegroupArn: `arn:aws:eks:us-west-2:012345678910:nodegroup/${nodegroup.cluster}/${nodegroup.name}/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
    clusterName: nodegroup.cluster,
    modifiedAt: nodegroup.modifiedAt,
    status: nodegroup.status,
    scalingConfig: { minSize: nodegroup.minSize, maxSize: nodegroup.maxSize, desiredSize: nodegroup.desiredSize },
    health: { issues: nodegroup.issues.map((issue) => ({ ...issue })) },
  };
}

function describeBody(cluster: FakeEksCluster): Record<string, unknown> {
  return {
    ...structuredClone(TEMPLATE),
    name: cluster.name,
    arn: `arn:aws:eks:us-west-2:012345678910:cluster/${cluster.name}`,
    endpoint: cluster.endpoint,
    status: cluster.status,
    certificateAuthority: { data: cluster.caData },
  };
}

/**
 * Checks a bearer token is what `aws eks get-token` makes: `k8s-aws-v1.` + unpadded base64url
 * of an STS GetCallerIdentity URL presigned with SigV4 (60 s) whose signed headers include
 * x-k8s-aws-id. Returns the reason it is not, for the fake Kubernetes API's 401.
 */
export function checkEksToken(token: string, accessKeyId = 'AKIDEXAMPLE'): string | undefined {
  if (!token.startsWith('k8s-aws-v1.')) return 'token lacks the k8s-aws-v1. prefix';
  const encoded = token.slice('k8s-aws-v1.'.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return 'token is not unpadded base64url';
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'token does not decode to a URL';
  }
  const q = url.searchParams;
  const problems = [
    [url.protocol === 'https:' && /^sts(\.[a-z0-9-]+)?\.amazonaws\.com$/.test(url.hostname), 'not an STS URL'],
    [q.get('Action') === 'GetCallerIdentity' && q.get('Version') === '2011-06-15', 'not GetCallerIdentity'],
    [q.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256', 'not SigV4'],
    [
      q.get('X-Amz-Credential')?.startsWith(`${accessKeyId}/`) &&
        q.get('X-Amz-Credential')?.endsWith('/sts/aws4_request'),
      'bad credential scope',
    ],
    [q.get('X-Amz-Expires') === '60', 'X-Amz-Expires is not 60'],
    [/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? ''), 'no X-Amz-Signature'],
    [(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id'), 'x-k8s-aws-id is not signed'],
  ] as const;
  return problems.find(([ok]) => !ok)?.[1];
}
