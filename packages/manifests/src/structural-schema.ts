/**
 * Turns the JSON Schema that zod 4 emits (`z.toJSONSchema`, draft 2020-12) into a Kubernetes
 * *structural* schema (apiextensions.k8s.io/v1 openAPIV3Schema, an OpenAPI 3.0 subset):
 * every node has a type; no $ref, $schema, const or propertyNames; `additionalProperties` only
 * for maps (never beside `properties`: unknown fields are pruned instead); numeric
 * exclusiveMinimum/Maximum become OpenAPI 3.0's boolean form; a union of objects becomes one
 * object holding every branch's fields, typed, plus a `oneOf` of value validations that keeps
 * each branch exact (its discriminator value, its required fields, no other branch's fields).
 * What JSON Schema cannot say (zod refinements across fields) the controller still checks with
 * zod and reports on the object's status.
 */
export type JsonSchema = { [keyword: string]: unknown };

/** A schema the converter cannot make structural: names the JSON path of the node. */
export class StructuralSchemaError extends Error {
  constructor(path: string, reason: string) {
    super(`${path || '<root>'}: ${reason}`);
    this.name = 'StructuralSchemaError';
  }
}

const STRING_FORMATS = new Set(['date-time', 'date', 'byte', 'uri', 'email', 'uuid', 'hostname', 'ipv4', 'ipv6']);
const KEYWORDS_DROPPED = new Set(['$schema', '$id', 'propertyNames']);
/** Keywords Kubernetes forbids inside allOf/anyOf/oneOf/not (structural rule 3). */
const NOT_IN_JUNCTORS = new Set(['type', 'default', 'description', 'additionalProperties', 'nullable']);

export function toStructuralSchema(schema: JsonSchema): JsonSchema {
  return convert(schema, '');
}

function convert(node: JsonSchema, path: string): JsonSchema {
  if ('$ref' in node) throw new StructuralSchemaError(path, 'a $ref (a recursive or reused schema) is not structural');
  const union = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
  if (union) return convertUnion(node, union, path);
  if ('const' in node && node.type === undefined) {
    return convert({ ...node, type: typeOfValue(node.const, path) }, path);
  }
  switch (node.type) {
    case 'object':
      return convertObject(node, path);
    case 'array':
      return convertArray(node, path);
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return convertScalar(node, path);
    default:
      throw new StructuralSchemaError(path, `no Kubernetes type for ${JSON.stringify(node.type ?? 'an untyped node')}`);
  }
}

function convertObject(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = { type: 'object', ...common(node) };
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  if (properties && Object.keys(properties).length > 0) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([key, value]) => [key, convert(value, `${path}.${key}`)]),
    );
    if (Array.isArray(node.required) && node.required.length > 0) out.required = [...node.required];
  } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    // A map (zod record): its values are typed; its keys are strings in any case.
    out.additionalProperties = convert(node.additionalProperties as JsonSchema, `${path}.*`);
  } else {
    // An object with neither: keep what it holds rather than prune it to {}.
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

function convertArray(node: JsonSchema, path: string): JsonSchema {
  if (!node.items || typeof node.items !== 'object' || Array.isArray(node.items)) {
    throw new StructuralSchemaError(path, 'an array needs one items schema (tuples are not structural)');
  }
  const out: JsonSchema = { type: 'array', ...common(node), items: convert(node.items as JsonSchema, `${path}[]`) };
  copy(node, out, ['minItems', 'maxItems', 'uniqueItems']);
  return out;
}

function convertScalar(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = { type: node.type, ...common(node), ...valueValidations(node, path) };
  return out;
}

/** Keywords that constrain a scalar's value; allowed anywhere, also inside oneOf branches. */
function valueValidations(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  copy(node, out, ['minLength', 'maxLength', 'minimum', 'maximum', 'multipleOf', 'enum']);
  if ('const' in node) out.enum = [node.const];
  if (typeof node.pattern === 'string') out.pattern = checkedPattern(node.pattern, path);
  if (typeof node.format === 'string' && STRING_FORMATS.has(node.format)) out.format = node.format;
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof node[exclusive] === 'number') {
      out[bound] = node[exclusive];
      out[exclusive] = true;
    }
  }
  return out;
}

function common(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  if (typeof node.description === 'string') out.description = node.description;
  if ('default' in node) out.default = node.default;
  return out;
}

/**
 * A union of objects (zod's discriminatedUnion or union): one object whose properties are every
 * branch's (typed, loosened to what the branches share), and a oneOf whose branches carry each
 * branch's own value validations, required fields and the fields it must not have.
 */
function convertUnion(node: JsonSchema, branches: JsonSchema[], path: string): JsonSchema {
  const converted = branches.map((branch, index) => convert(branch, `${path}<${index}>`));
  if (!converted.every((branch) => branch.type === 'object' && branch.properties)) {
    throw new StructuralSchemaError(path, 'only unions of objects with fields can be made structural');
  }
  const keys = [...new Set(converted.flatMap((branch) => Object.keys(branch.properties as object)))];
  const properties: Record<string, JsonSchema> = {};
  for (const key of keys) {
    const variants = converted
      .map((branch) => (branch.properties as Record<string, JsonSchema>)[key])
      .filter((variant): variant is JsonSchema => variant !== undefined);
    properties[key] = loosest(variants, converted.length, `${path}.${key}`);
  }
  const required = keys.filter((key) =>
    converted.every((branch) => (branch.required as string[] | undefined)?.includes(key)),
  );
  const oneOf = converted.map((branch) => exactBranch(branch, keys));
  return {
    type: 'object',
    ...common(node),
    properties,
    ...(required.length > 0 ? { required } : {}),
    oneOf,
  };
}

/**
 * The outer schema of one field that several branches define: their common type, and only the
 * constraints every branch agrees on (each branch keeps its own in the oneOf). A default survives
 * only if every branch has the field with that default: Kubernetes would otherwise add it to
 * objects of branches that must not have the field.
 */
function loosest(variants: JsonSchema[], branchCount: number, path: string): JsonSchema {
  const [first, ...rest] = variants as [JsonSchema, ...JsonSchema[]];
  if (rest.some((variant) => variant.type !== first.type)) {
    throw new StructuralSchemaError(path, 'the union branches give this field different types');
  }
  if (rest.every((variant) => same(variant, first))) {
    if (variants.length === branchCount) return first;
    const { default: _dropped, ...withoutDefault } = first;
    return withoutDefault;
  }
  const out: JsonSchema = { type: first.type };
  if (first.type === 'string' || first.type === 'number' || first.type === 'integer') {
    const enums = variants.map((variant) => variant.enum);
    if (enums.every(Array.isArray)) out.enum = [...new Set(enums.flat())];
  }
  if (first.type === 'object' || first.type === 'array') out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

function exactBranch(branch: JsonSchema, allKeys: string[]): JsonSchema {
  const own = branch.properties as Record<string, JsonSchema>;
  const out: JsonSchema = {
    properties: Object.fromEntries(Object.entries(own).map(([key, value]) => [key, junctorSafe(value)])),
  };
  if (Array.isArray(branch.required) && branch.required.length > 0) out.required = branch.required;
  const foreign = allKeys.filter((key) => !(key in own));
  if (foreign.length > 0) out.not = { anyOf: foreign.map((key) => ({ required: [key] })) };
  return out;
}

/** A schema stripped of what Kubernetes forbids inside junctors, recursively. */
function junctorSafe(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (NOT_IN_JUNCTORS.has(keyword) || keyword.startsWith('x-kubernetes-')) continue;
    if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([key, child]) => [key, junctorSafe(child)]),
      );
    } else if (keyword === 'items') out.items = junctorSafe(value as JsonSchema);
    else if (keyword === 'oneOf' || keyword === 'anyOf' || keyword === 'allOf') {
      out[keyword] = (value as JsonSchema[]).map(junctorSafe);
    } else out[keyword] = value;
  }
  return out;
}

/**
 * Kubernetes checks patterns with Go's RE2: no lookaround, no backreferences, no \u escapes.
 * A pattern RE2 cannot run would make the apiserver refuse the whole CRD: fail the build here.
 */
function checkedPattern(pattern: string, path: string): string {
  if (/\(\?<?[=!]|\\[1-9]|\\u[0-9a-fA-F]{4}|\\k</.test(pattern)) {
    throw new StructuralSchemaError(path, `pattern ${pattern} uses what Go's RE2 cannot run`);
  }
  return pattern;
}

function typeOfValue(value: unknown, path: string): string {
  if (typeof value === 'string' || typeof value === 'boolean') return typeof value;
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  throw new StructuralSchemaError(path, `no Kubernetes type for the constant ${JSON.stringify(value)}`);
}

function copy(from: JsonSchema, to: JsonSchema, keywords: string[]): void {
  for (const keyword of keywords) if (keyword in from && !KEYWORDS_DROPPED.has(keyword)) to[keyword] = from[keyword];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
