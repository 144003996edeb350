export * from './blocking/index.js';
export * from './consul/index.js';
export * from './eks/index.js';
export * from './factory.js';
export * from './kubernetes/index.js';
export * from './nomad/index.js';
export * from './source.js';
export * from './static/static-source.js';
