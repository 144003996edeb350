export * from './consul-mapping.js';
export * from './consul-schema.js';
export * from './consul-source.js';
