import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4, type SignatureV4Init } from '@smithy/signature-v4';

/** A function resolving AWS credentials, as the SDK's providers (fromNodeProviderChain) are. */
export type AwsCredentialIdentityProvider = Exclude<SignatureV4Init['credentials'], { accessKeyId: string }>;

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** aws-iam-authenticator accepts a token for 15 minutes from its X-Amz-Date; refresh well before. */
const DEFAULT_REFRESH_MS = 10 * 60_000;

type PresignRequest = Parameters<SignatureV4['presign']>[0];

/**
 * A bearer token for an EKS cluster, made as `aws eks get-token` makes it: an STS
 * GetCallerIdentity URL presigned with SigV4 (60 s expiry) whose signed headers include
 * `x-k8s-aws-id: <cluster>`, so the token only authenticates to that cluster; then
 * `k8s-aws-v1.` + base64url of the URL without padding. The cluster's authenticator replays
 * the URL against STS to learn who we are.
 */
export async function eksToken(options: {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  signingDate: Date;
}): Promise<string> {
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const request: PresignRequest = {
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
  };
  const signed = await signer.presign(request, { expiresIn: 60, signingDate: options.signingDate });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    for (const each of Array.isArray(value) ? value : [value]) if (each !== null) query.append(key, each);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url).toString('base64url');
}

/** Mints a token on first use and again once it is `refreshAfterMs` old; concurrent callers share one mint. */
export class EksTokenCache {
  private current: { token: string; refreshAt: number } | undefined;
  private minting: Promise<string> | undefined;

  constructor(
    private readonly options: {
      clusterName: string;
      region: string;
      credentials: AwsCredentialIdentityProvider;
      now: () => Date;
      refreshAfterMs?: number;
    },
  ) {}

  async token(): Promise<string> {
    const now = this.options.now();
    if (this.current && now.getTime() < this.current.refreshAt) return this.current.token;
    this.minting ??= this.mint(now).finally(() => {
      this.minting = undefined;
    });
    return this.minting;
  }

  private async mint(now: Date): Promise<string> {
    const token = await eksToken({ ...this.options, signingDate: now });
    this.current = { token, refreshAt: now.getTime() + (this.options.refreshAfterMs ?? DEFAULT_REFRESH_MS) };
    return token;
  }
}
