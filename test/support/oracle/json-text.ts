/**
 * A JSON parser that keeps each number as written. SPEC section 4 ("Property operators") defines a
 * number's text from how it is written (`42` stays `42`, `4.50` becomes `4.5`), which `JSON.parse`
 * forgets, so the oracle reads the lake's JSON with this instead.
 */

/** A JSON number with the text it was written as. */
export class JsonNumber {
  constructor(readonly written: string) {}
  /** The number as a double (SPEC section 1: every number is a double). */
  get double(): number {
    return Number(this.written);
  }
}

/** A JSON value: objects are maps (any key, in order), numbers keep their text. */
export type JsonValue = string | boolean | null | JsonNumber | readonly JsonValue[] | ReadonlyMap<string, JsonValue>;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING = /"((?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"/y;
const SPACE = /[ \t\r\n]*/y;

/** Parses one JSON text; throws naming `where` and the offset when it is not JSON. */
export function parseJsonText(text: string, where: string): JsonValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what} at offset ${at}`);
  };
  const skip = () => {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    at = SPACE.lastIndex;
  };
  const match = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = at;
    const found = pattern.exec(text);
    if (found) at = pattern.lastIndex;
    return found;
  };
  const value = (): JsonValue => {
    skip();
    const char = text[at];
    if (char === '{') {
      at++;
      const object = new Map<string, JsonValue>();
      skip();
      if (text[at] === '}') {
        at++;
        return object;
      }
      for (;;) {
        skip();
        const key = match(STRING) ?? fail('expected a key');
        skip();
        if (text[at++] !== ':') fail('expected ":"');
        object.set(JSON.parse(key[0]) as string, value());
        skip();
        const next = text[at++];
        if (next === '}') return object;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (char === '[') {
      at++;
      const list: JsonValue[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return list;
      }
      for (;;) {
        list.push(value());
        skip();
        const next = text[at++];
        if (next === ']') return list;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (char === '"') return JSON.parse((match(STRING) ?? fail('bad string'))[0]) as string;
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return literal;
      }
    }
    return new JsonNumber((match(NUMBER) ?? fail('expected a value'))[0]);
  };
  const parsed = value();
  skip();
  if (at !== text.length) fail('trailing text');
  return parsed;
}
