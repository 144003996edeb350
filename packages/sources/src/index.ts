export * from './blocking/index.js';
export * from './consul/index.js';
export * from './factory.js';
export * from './nomad/index.js';
export * from './source.js';
export * from './static/static-source.js';
