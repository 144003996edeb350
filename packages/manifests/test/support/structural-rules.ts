import type { JsonSchema } from '../../src/structural-schema.js';

const FORBIDDEN_ANYWHERE = ['$ref', '$schema', '$defs', 'const', 'propertyNames', 'prefixItems'];
const FORBIDDEN_IN_JUNCTORS = ['type', 'default', 'description', 'additionalProperties', 'nullable'];
const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];

/**
 * Kubernetes' rules for a structural schema (apiextensions.k8s.io/v1, "Specifying a structural
 * schema"), checked independently of the converter: every violation with its path.
 */
export function structuralViolations(schema: JsonSchema): string[] {
  const found: string[] = [];
  walk(schema, '', found);
  return found;
}

function walk(node: JsonSchema, path: string, found: string[]): void {
  common(node, path, found);
  const typed = typeof node.type === 'string' || node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!typed) found.push(`${path}: no type`);
  if (node.properties && node.additionalProperties !== undefined)
    found.push(`${path}: additionalProperties beside properties`);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
    walk(child, `${path}.${key}`, found);
  }
  if (node.items) walk(node.items as JsonSchema, `${path}[]`, found);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    walk(node.additionalProperties as JsonSchema, `${path}.*`, found);
  }
  for (const junctor of JUNCTORS) {
    if (node[junctor] === undefined) continue;
    const branches = (Array.isArray(node[junctor]) ? node[junctor] : [node[junctor]]) as JsonSchema[];
    for (const [index, branch] of branches.entries()) inJunctor(branch, node, `${path}.${junctor}[${index}]`, found);
  }
}

/** Inside a junctor only value validations, and only on fields the outer schema specifies. */
function inJunctor(node: JsonSchema, outer: JsonSchema, path: string, found: string[]): void {
  common(node, path, found);
  for (const keyword of FORBIDDEN_IN_JUNCTORS) if (keyword in node) found.push(`${path}: ${keyword} inside a junctor`);
  const outerProperties = (outer.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
    if (!(key in outerProperties)) found.push(`${path}.${key}: not specified outside the junctor`);
    else inJunctor(child, outerProperties[key]!, `${path}.${key}`, found);
  }
  for (const junctor of JUNCTORS) {
    if (node[junctor] === undefined) continue;
    const branches = (Array.isArray(node[junctor]) ? node[junctor] : [node[junctor]]) as JsonSchema[];
    for (const [index, branch] of branches.entries()) inJunctor(branch, outer, `${path}.${junctor}[${index}]`, found);
  }
}

function common(node: JsonSchema, path: string, found: string[]): void {
  for (const keyword of FORBIDDEN_ANYWHERE) if (keyword in node) found.push(`${path}: ${keyword}`);
  for (const keyword of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (keyword in node && typeof node[keyword] !== 'boolean') found.push(`${path}: ${keyword} must be a boolean`);
  }
}
