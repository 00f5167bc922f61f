import { readFile } from 'node:fs/promises';
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type DefinitionProblem, formatProblem, type SourcePosition } from '../language/errors.ts';
import { configSchema, type ProjectConfig } from './schema.ts';

export type { CheckLevels, CountLevels, ProjectConfig, ShareLevels, SourceSettings } from './schema.ts';
export { MAX_FRESHNESS_HOURS } from './schema.ts';

/** The config file's usual name, at the project root. */
export const CONFIG_FILE = 'cohorts.config.yaml';

/** Every setting at its default: what a project without a config file gets. */
export const DEFAULT_CONFIG: ProjectConfig = deepFreeze(configSchema.parse({}));

/** Thrown when the config file is invalid; carries every problem, each as `path:line:col: message`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly DefinitionProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/**
 * Reads the project config file (YAML 1.2, unique keys, unknown keys are errors). A file that does
 * not exist, or holds nothing, yields DEFAULT_CONFIG.
 */
export async function loadConfig(path: string): Promise<ProjectConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw error;
  }
  return parseConfig(text, path);
}

/** Parses config text; `file` names it in errors. Throws ConfigError. */
export function parseConfig(text: string, file: string): ProjectConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: false, lineCounter });
  const position = (offset: number): SourcePosition => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => ({ file, position: position(error.pos[0]), message: `malformed YAML: ${error.message.split('\n')[0] ?? error.message}` })),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ file, position: { line: 1, col: 1 }, message: 'the config must be a YAML mapping with keys defaults, sources and checks' }]);
  }
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ file, position: issuePosition(doc, issue, position), message: issueMessage(issue) })));
  }
  return deepFreeze(parsed.data);
}

type Issue = z.core.$ZodIssue;

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function issueMessage(issue: Issue): string {
  const where = dotted(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${where ? `${where}: ` : ''}unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')} (a typo is never ignored)`;
  }
  return where ? `${where} ${issue.message}` : issue.message;
}

/** Where an issue stands: the unknown key itself, or the deepest node of its path that exists. */
function issuePosition(doc: Document, issue: Issue, position: (offset: number) => SourcePosition): SourcePosition | undefined {
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    const key = keyNode(doc, issue.path, issue.keys[0]);
    if (key?.range) return position(key.range[0]);
  }
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(issue.path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return position(node.range[0]);
  }
  return undefined;
}

function keyNode(doc: Document, mapPath: readonly PropertyKey[], key: string): Node | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath as unknown[], true);
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
