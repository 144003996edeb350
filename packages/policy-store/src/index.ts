export * from './in-memory-policy-store.js';
