export * from './nomad-mapping.js';
export * from './nomad-schema.js';
export * from './nomad-source.js';
