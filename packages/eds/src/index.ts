export * from './apportion-weights.js';
export * from './client-environment.js';
export * from './compute-load-assignment.js';
export * from './deduplicate-endpoints.js';
export * from './health-status.js';
export * from './load-assignment.js';
export * from './locality-group.js';
export * from './proximity.js';
