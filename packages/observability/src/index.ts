export * from './batched-counter.js';
export * from './health.js';
export * from './http-limits.js';
export * from './logger.js';
export * from './metrics.js';
export * from './problem.js';
export * from './run-log.js';
