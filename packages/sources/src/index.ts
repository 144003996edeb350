export * from './factory.js';
export * from './source.js';
export * from './static/static-source.js';
