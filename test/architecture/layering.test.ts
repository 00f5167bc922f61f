import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  importCycles,
  importEdges,
  importProblems,
  importSpecifiers,
  type LayeringException,
  type Ring,
  readSources,
  type SeparateRooms,
} from './import-graph.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The folders whose source files are checked: everything that ships or runs, tests left out. */
const SOURCE_FOLDERS = ['shared', 'functions', 'infra', 'bin', 'bench'];

/**
 * The house, from the ground up. A file may import files of its own ring or of a lower one,
 * never of a higher one. A folder path ends with `/`; a file path places one file by itself.
 */
const RINGS: readonly Ring[] = [
  {
    // The vocabulary: the language and its SQL compiler (which depends on nothing else), the
    // config, the statistics, the validation of inputs at the edges, and the key prefixes of the buckets.
    name: 'ground',
    paths: [
      'shared/language/',
      'shared/compiler/',
      'shared/config/',
      'shared/stats/',
      'shared/input-validation.ts',
      'shared/wire-types.ts',
      'shared/bucket-layout.ts',
      'shared/csv-cell.ts',
    ],
  },
  {
    // The contracts: the ports the adapters implement, and what starts a refresh.
    name: 'contracts',
    paths: ['shared/ports.ts', 'shared/refresh-request.ts'],
  },
  {
    // What the product does, whatever runs it.
    name: 'domain',
    paths: [
      'shared/engine/',
      'shared/checks/',
      'shared/store/',
      'shared/governance/',
      'shared/privacy/',
      'shared/experiments/',
      'shared/deliver/',
      'shared/report/',
      'shared/notify/',
      'shared/learnings/',
      'shared/fixtures/',
      'shared/tiles/',
    ],
  },
  {
    // The two worlds, mirror rooms; the sample lake is written with the local engine, and so is
    // what `cohorts ingest` appends to the local lake.
    name: 'adapters',
    paths: ['shared/cloud/', 'shared/local/', 'shared/sample/', 'shared/ingest/'],
  },
  {
    // The refresh as steps of the state machine, and the upload trigger.
    name: 'composition',
    paths: ['shared/workflow/', 'shared/uploads/'],
  },
  {
    // The CDK app and constructs.
    name: 'deployment',
    paths: ['infra/'],
  },
  {
    // What a person or AWS runs: the CLI (which also runs the synthesized state machine
    // locally), the Lambda handlers, the benchmark, the launcher (the schema writer is a CLI script).
    name: 'entry',
    paths: ['shared/cli/', 'functions/', 'bench/', 'bin/'],
  },
];

/** Rooms that never import each other, even within one ring. */
const SEPARATE: readonly SeparateRooms[] = [
  ['shared/cloud/', 'shared/local/'],
  ['shared/cli/', 'functions/', 'bench/', 'bin/'],
];

/** Imports allowed against the rings, each with its reason. None: code was moved instead. */
const EXCEPTIONS: readonly LayeringException[] = [];

/** The room of a file: its folder, or the file itself when it stands directly under shared/ (ports.ts, ...). */
const roomOf = (file: string) => (/^shared\/[^/]+$/.test(file) ? file : file.slice(0, file.lastIndexOf('/') + 1));

/** The imports between rooms, each once, an import within a room left out. */
function roomEdges(edges: readonly { from: string; to: string }[]): { from: string; to: string }[] {
  const between = edges.map(({ from, to }) => ({ from: roomOf(from), to: roomOf(to) })).filter(({ from, to }) => from !== to);
  return [...new Map(between.map((edge) => [`${edge.from} ${edge.to}`, edge])).values()];
}

const messages = (kind: string, problems: readonly { kind: string; message: string }[]) =>
  problems.filter((problem) => problem.kind === kind).map((problem) => problem.message);

describe('The import layering of the tree', () => {
  it('has no import cycle, no import against the rings, no file outside them and no import of a missing file', async () => {
    // GIVEN every source file of the repository
    const files = await readSources(ROOT, SOURCE_FOLDERS);

    // WHEN its imports are checked
    const problems = importProblems(files, RINGS, SEPARATE, EXCEPTIONS);

    // THEN there is no problem of any kind, and the reader saw the tree's imports
    expect(problems.map((problem) => `${problem.kind}: ${problem.message}`)).toEqual([]);
    expect(importEdges(files).edges.length).toBeGreaterThan(500);
  });

  it('has no import cycle between rooms either: a folder (or a file directly under shared/) is one room', async () => {
    // GIVEN the imports of every source file, each end named by its room
    const { edges } = importEdges(await readSources(ROOT, SOURCE_FOLDERS));

    // WHEN rooms stand for their files
    const cycles = importCycles(roomEdges(edges));

    // THEN no room imports, through others, a room that imports it
    expect(cycles.map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('keeps shared/ free of functions/ and of infra/ except for the CLI', async () => {
    const { edges } = importEdges(await readSources(ROOT, SOURCE_FOLDERS));

    const climbing = edges.filter(
      ({ from, to }) =>
        from.startsWith('shared/') && (to.startsWith('functions/') || (to.startsWith('infra/') && !from.startsWith('shared/cli/'))),
    );

    expect(climbing).toEqual([]);
  });
});

describe('The import checker', () => {
  it('reports a planted import against the layering and the cycle it closes', () => {
    // GIVEN a language file that imports the workflow, which imports the language
    const files = new Map([
      ['shared/language/ast.ts', "import type { PlanEvent } from '../workflow/events.ts';\nexport type Ast = PlanEvent;\n"],
      ['shared/workflow/events.ts', "import type { Ast } from '../language/ast.ts';\nexport type PlanEvent = { ast: Ast };\n"],
    ]);

    // WHEN the checker reads them
    const problems = importProblems(files, RINGS, SEPARATE);

    // THEN it names the import that climbs and the loop, file by file
    expect(messages('layering', problems)).toEqual([
      'shared/language/ast.ts (ground) imports shared/workflow/events.ts (composition), a higher ring',
    ]);
    expect(messages('cycle', problems)).toEqual([
      'import cycle: shared/language/ast.ts -> shared/workflow/events.ts -> shared/language/ast.ts',
    ]);
  });

  it('reports an import between the cloud and the local adapters, a file in no ring and an import of a missing file', () => {
    const files = new Map([
      ['shared/cloud/s3-store.ts', "import { FsStore } from '../local/fs-store.ts';\nimport { gone } from './gone.ts';\n"],
      ['shared/local/fs-store.ts', 'export class FsStore {}\n'],
      ['shared/attic/old.ts', 'export const old = 1;\n'],
    ]);

    const problems = importProblems(files, RINGS, SEPARATE);

    expect(messages('separate', problems)).toEqual([
      'shared/cloud/s3-store.ts imports shared/local/fs-store.ts: shared/cloud/, shared/local/ never import each other',
    ]);
    expect(messages('unplaced', problems)).toEqual(['shared/attic/old.ts is in no ring']);
    expect(messages('unresolved', problems)).toEqual(["shared/cloud/s3-store.ts imports './gone.ts', which is no source file"]);
  });

  it('lets a listed exception through and nothing else', () => {
    const files = new Map([
      ['shared/store/a.ts', "import { b } from '../workflow/b.ts';\n"],
      ['shared/workflow/b.ts', 'export const b = 1;\n'],
    ]);

    const allowed = importProblems(files, RINGS, SEPARATE, [{ from: 'shared/store/a.ts', to: 'shared/workflow/b.ts', reason: 'test' }]);

    expect(allowed).toEqual([]);
  });

  it('reads static, type-only, multi-line, re-export, side-effect and dynamic imports, and skips comments', () => {
    const text = [
      "import { z } from 'zod';",
      "import type { A, B } from './types.ts';",
      'import {',
      '  one,',
      '  type Two,',
      "} from '../multi.ts';",
      "export * from './everything.ts';",
      "export { thing } from './thing.ts';",
      "import './polyfill.ts';",
      "const later = await import('../../infra/stack.ts');",
      "/** Example: import { no } from './in-doc.ts'; */",
      "// import { no } from './in-comment.ts';",
      "const url = 'https://example.com/from/here';",
    ].join('\n');

    expect(importSpecifiers(text).sort()).toEqual(
      ['zod', './types.ts', '../multi.ts', './everything.ts', './thing.ts', './polyfill.ts', '../../infra/stack.ts'].sort(),
    );
  });

  it('sees a loop between rooms that no file-level loop shows', () => {
    // GIVEN a.ts -> privacy/x.ts -> deliver/y.ts and deliver/z.ts -> privacy/w.ts: no file loop
    const edges = [
      { from: 'shared/engine/a.ts', to: 'shared/privacy/x.ts' },
      { from: 'shared/privacy/x.ts', to: 'shared/deliver/y.ts' },
      { from: 'shared/deliver/z.ts', to: 'shared/privacy/w.ts' },
      { from: 'shared/ports.ts', to: 'shared/language/ast.ts' },
    ];

    expect(importCycles(edges)).toEqual([]);
    expect(importCycles(roomEdges(edges))).toEqual([['shared/deliver/', 'shared/privacy/', 'shared/deliver/']]);
  });

  it('finds each cycle once, as a loop through its files', () => {
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'd' },
      { from: 'd', to: 'd' },
    ];

    expect(importCycles(edges)).toEqual([
      ['d', 'd'],
      ['a', 'b', 'c', 'a'],
    ]);
  });
});
