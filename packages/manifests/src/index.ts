export * from './custom-resource-definitions.js';
export * from './kubernetes-object.js';
export * from './probes.js';
export * from './process-config.js';
export * from './render.js';
export * from './structural-schema.js';
export * from './values.js';
