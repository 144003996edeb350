export * from './eks-source.js';
export { type AwsCredentialIdentityProvider, EKS_TOKEN_PREFIX, EksTokenCache, eksToken } from './token.js';
