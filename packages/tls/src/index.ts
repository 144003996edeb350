export * from './watched-key-pair.js';
