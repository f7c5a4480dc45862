// SPDX-License-Identifier: Apache-2.0
/**
 * Read and validate a `*.quant.json`: JSON syntax (jsonc-parser, so comments are tolerated as in the editor),
 * then the JSON Schema (ajv), then the model-specific checks (known format ids, existing node names). Every
 * problem names the file with its line and column, so a user can jump straight to it.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { QuantLensError } from '../../engine/errors';
import schema from '../../schemas/quant-config.schema.json';
import type { QuantConfig } from './types';

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile<QuantConfig>(schema);

/** One problem in a config file, with its 1-based position. */
export interface ConfigProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

/** Read a config file and validate it against the schema; throws QuantLensError('config') naming file:line:col. */
export function loadConfig(file: string): QuantConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  return parseConfig(text, file);
}

/** Parse config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): QuantConfig {
  const { value, problems } = checkConfigText(text);
  if (problems.length > 0) throw configError(file, problems);
  return value as QuantConfig;
}

/** All syntax and schema problems of a config text (empty when valid); for the editor's diagnostics too. */
export function checkConfigText(text: string): { value: unknown; problems: ConfigProblem[] } {
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: false });
  const lines = lineStarts(text);
  if (parseErrors.length > 0 || !root) {
    const e = parseErrors[0];
    const pos = toLineCol(lines, e?.offset ?? 0);
    return { value: undefined, problems: [{ ...pos, path: '', message: `invalid JSON: ${e ? printParseErrorCode(e.error) : 'empty file'}` }] };
  }
  const value = nodeValue(root);
  if (validateSchema(value)) return { value, problems: [] };
  return { value, problems: schemaProblems(validateSchema.errors ?? [], root, lines) };
}

/** Model-specific checks: every format id is known and every override names a node of the model. */
export function checkConfigAgainstModel(
  config: QuantConfig,
  text: string,
  known: { formatIds: readonly string[]; nodeNames: readonly string[] },
): ConfigProblem[] {
  const root = parseTree(text);
  const lines = lineStarts(text);
  const formats = new Set(known.formatIds);
  const nodes = new Set(known.nodeNames);
  const problems: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string, onKey = false): void => {
    problems.push({ ...positionOf(root, path, lines, onKey), path: pointer(path), message });
  };
  const checkFormat = (path: (string | number)[], format: string | undefined): void => {
    if (format !== undefined && !formats.has(format)) {
      at([...path, 'format'], `unknown format '${format}' (known: ${[...formats].join(', ')})`);
    }
  };
  checkFormat(['defaults', 'weights'], config.defaults.weights?.format);
  checkFormat(['defaults', 'activations'], config.defaults.activations?.format);
  for (const [name, o] of Object.entries(config.layers ?? {})) {
    if (!nodes.has(name)) at(['layers', name], `no node named '${name}' in the model`, true);
    checkFormat(['layers', name, 'weights'], o.weights?.format);
    checkFormat(['layers', name, 'activations'], o.activations?.format);
  }
  return problems;
}

/** One QuantLensError('config') line listing the problems as file:line:col. */
export function configError(file: string, problems: ConfigProblem[]): QuantLensError {
  const shown = problems.slice(0, 3).map((p) => `${file}:${p.line}:${p.column}: ${p.path ? `${p.path} ` : ''}${p.message}`);
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return new QuantLensError('config', `${shown.join('; ')}${more}`, file);
}

function schemaProblems(errors: ErrorObject[], root: Node, lines: number[]): ConfigProblem[] {
  // oneOf/anyOf wrappers repeat what their branches said; keep the most specific messages
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  const byPath = new Map<string, ErrorObject>();
  for (const e of specific.length > 0 ? specific : errors) {
    // a null-or-object branch failing on `type: null` is noise when the object branch explains more
    if (e.keyword === 'type' && (e.params as { type?: string }).type === 'null' && specific.length > 1) continue;
    const key = e.keyword === 'additionalProperties' ? `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}` : e.instancePath;
    if (!byPath.has(key)) byPath.set(key, e);
  }
  return [...byPath.values()].map((e) => {
    const path = fromPointer(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { ...positionOf(root, [...path, extra], lines, true), path: pointer(path), message: `unknown property '${extra}'` };
    }
    const detail = e.keyword === 'enum' ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : e.message ?? e.keyword;
    return { ...positionOf(root, path, lines, false), path: pointer(path), message: detail };
  });
}

function positionOf(root: Node | undefined, path: (string | number)[], lines: number[], onKey: boolean): { line: number; column: number } {
  if (!root) return { line: 1, column: 1 };
  let node: Node | undefined;
  for (let n = path.length; n >= 0 && !node; n--) node = findNodeAtLocation(root, path.slice(0, n));
  if (!node) return { line: 1, column: 1 };
  // for a property, point at its key: the value's parent is the property node whose first child is the key
  const target = onKey && node.parent?.type === 'property' ? node.parent.children?.[0] ?? node : node;
  return toLineCol(lines, target.offset);
}

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const p of node.children ?? []) {
        const [k, v] = p.children ?? [];
        if (k && v) out[k.value as string] = nodeValue(v);
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function toLineCol(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

function fromPointer(p: string): (string | number)[] {
  // array indices must be numbers for findNodeAtLocation
  return p === '' ? [] : p.slice(1).split('/').map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
}

function pointer(path: (string | number)[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
