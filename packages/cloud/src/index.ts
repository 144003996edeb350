export * from './deployment-scaler.js';
export * from './dns-weights.js';
export * from './errors.js';
export * from './nodegroup-scaler.js';
export type { Pacing } from './pacing.js';
