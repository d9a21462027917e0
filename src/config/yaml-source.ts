import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar } from 'yaml';
import type { KeyPath } from './issue.js';

/** 1-based, as editors count. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface SyntaxProblem {
  readonly position: Position;
  readonly message: string;
}

/**
 * A parsed YAML config that still knows where everything was written, so that a problem found on
 * the plain data (by key path) can be reported at its line and column.
 */
export class YamlSource {
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(text: string) {
    // prettyErrors off: messages come without the "at line…" suffix and code frame; positions
    // are reported separately.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
  }

  /**
   * YAML errors, and warnings too: a warning such as an unknown `!tag` means the value is not
   * what the author meant, and this file's rule is that nothing questionable passes silently.
   * The parser often reports one mistake several times at one place; the first says it best.
   */
  syntaxProblems(): SyntaxProblem[] {
    const firstAtEachPosition = new Map<string, SyntaxProblem>();
    for (const { pos, message } of [...this.doc.errors, ...this.doc.warnings]) {
      const position = this.lines.linePos(pos[0]);
      const key = `${position.line}:${position.col}`;
      if (!firstAtEachPosition.has(key)) firstAtEachPosition.set(key, { position, message });
    }
    return [...firstAtEachPosition.values()];
  }

  /** Calls `visit` for every scalar that is a value (not a key), with its key path. */
  forEachValueScalar(visit: (scalar: Scalar, path: KeyPath) => void): void {
    const walk = (node: unknown, path: KeyPath): void => {
      if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, keyText(pair.key)]);
      else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
      else if (isScalar(node)) visit(node, path);
    };
    walk(this.doc.contents, []);
  }

  /** The document as plain data (aliases resolved). Throws for an alias without its anchor. */
  toData(): unknown {
    return this.doc.toJS();
  }

  /**
   * Where the node at `path` was written: its value, or with `atKey` its key. A path that leaves
   * the document (a missing key, a path through an alias) stops at the deepest node that exists,
   * which is where a missing key belongs.
   */
  positionOf(path: KeyPath, atKey = false): Position {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, segment] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(segment));
        if (pair === undefined) break;
        const keyOffset = rangeStart(pair.key) ?? offset;
        if (atKey && i === path.length - 1) return this.lines.linePos(keyOffset);
        node = pair.value;
        offset = rangeStart(node) ?? keyOffset;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return this.lines.linePos(offset);
  }
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}
