export * from './alertmanager.js';
export * from './alertmanager-api.js';
export * from './metrics.js';
export * from './prometheus/client.js';
export * from './prometheus/response.js';
export * from './rate-history.js';
export * from './slo.js';
