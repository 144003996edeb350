export * from './backoff.js';
export * from './blocking-query.js';
export * from './blocking-registry-source.js';
export * from './fan-out.js';
export * from './http.js';
export * from './token-bucket.js';
export * from './warn-once.js';
