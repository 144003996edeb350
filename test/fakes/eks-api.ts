import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureJson } from '../fixtures/index.js';

/**
 * A fake of the EKS REST-JSON API (2017-11-01) for ListClusters and DescribeCluster, answering
 * like the recorded payloads: `{cluster:{…}}` with epoch-number timestamps, `endpoint: null`
 * and `certificateAuthority.data: null` while CREATING, errors as `x-amzn-ErrorType` plus a
 * `{message}` body (404 ResourceNotFoundException, 429 ThrottlingException, which the SDK retries).
 * Requests must carry a SigV4 Authorization header for the expected access key.
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
}

const TEMPLATE = fixtureJson<{ cluster: Record<string, unknown> }>('aws-eks-describecluster.apiref.json').cluster;

export class FakeEksApi {
  readonly requests: EksRequestRecord[] = [];
  /** ListClusters page size when the client sends no maxResults (EKS's default is 100). */
  pageSize = 100;
  private readonly clusters = new Map<string, FakeEksCluster>();
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

  private handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://fake');
    const record: EksRequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, errorType?: string) => {
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
    const describe = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    const cluster = describe?.[1] ? this.clusters.get(decodeURIComponent(describe[1])) : undefined;
    if (record.method === 'GET' && describe) {
      if (!cluster)
        return reply(404, { message: `No cluster found for name: ${describe[1]}.` }, 'ResourceNotFoundException');
      return reply(200, { cluster: describeBody(cluster) });
    }
    reply(404, { message: 'Not found' }, 'ResourceNotFoundException');
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
