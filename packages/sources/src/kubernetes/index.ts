export { type InformerHooks, type InformerOptions, InformerRunner, type ObjectEvent } from './informer.js';
export * from './kubernetes-source.js';
export { choosePort, healthOf, nodeTopology, SERVICE_NAME_LABEL } from './mapping.js';
