export * from './custom-resource-definitions.js';
export * from './kubernetes-object.js';
export * from './structural-schema.js';
