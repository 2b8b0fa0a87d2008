/**
 * A small, strict parser for the Python literals the legacy collections secret is written in (the `repr()`
 * of a dict, as `ast.literal_eval` reads it): dicts, lists, str, int, float, True/False/None and comments.
 * A real grammar rather than quote replacement, because values may hold quotes, backslashes and unicode.
 *
 * Differences from Python, on purpose: dict keys must be strings (the result is a JS object) and a
 * repeated key is an error instead of "last wins" (in a configuration it is an editing mistake). Tuples,
 * sets, bytes, f-strings, `\N{...}` escapes and implicit string concatenation are not supported.
 */
export type PyValue = string | number | boolean | null | PyValue[] | PyDict;
export interface PyDict {
  [key: string]: PyValue;
}

export class PythonLiteralError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'PythonLiteralError';
  }
}

const MAX_DEPTH = 64;
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[-+]?(?:0|[1-9](?:_?\d)*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const JSON_SPELLINGS: Record<string, string> = { true: 'True', false: 'False', null: 'None' };

export function parsePythonLiteral(text: string): PyValue {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('unexpected text after the value');
  return value;
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(reason: string, at = this.pos): never {
    const before = this.text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new PythonLiteralError(reason, at, line, column);
  }

  /** Whitespace, `#` comments and explicit line joins (a backslash before a newline). */
  skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.pos += 1;
      else if (c === '#') while (!this.atEnd() && this.text[this.pos] !== '\n') this.pos += 1;
      else if (c === '\\' && /^\\\r?\n/.test(this.text.slice(this.pos, this.pos + 3))) this.pos += this.text[this.pos + 1] === '\r' ? 3 : 2;
      else return;
    }
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end of input, expected a value');
    if (c === '{') return this.dict(depth);
    if (c === '[') return this.list(depth);
    if (c === "'" || c === '"') return this.string('');
    if (/[-+0-9]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c)) return this.name();
    return this.fail(`unexpected ${JSON.stringify(c)}, expected a value`);
  }

  private dict(depth: number): PyDict {
    const result: PyDict = Object.create(null) as PyDict;
    this.pos += 1;
    this.skipSpace();
    while (this.text[this.pos] !== '}') {
      const keyAt = this.pos;
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('dict keys must be strings', keyAt);
      if (Object.hasOwn(result, key)) this.fail(`repeated dict key ${JSON.stringify(key)}`, keyAt);
      this.skipSpace();
      this.expect(':', "expected ':' after a dict key");
      this.skipSpace();
      result[key] = this.value(depth + 1);
      if (!this.separator('}')) break;
    }
    this.expect('}', "expected ',' or '}' in a dict");
    return result;
  }

  private list(depth: number): PyValue[] {
    const result: PyValue[] = [];
    this.pos += 1;
    this.skipSpace();
    while (this.text[this.pos] !== ']') {
      result.push(this.value(depth + 1));
      if (!this.separator(']')) break;
    }
    this.expect(']', "expected ',' or ']' in a list");
    return result;
  }

  /** After an item: consumes `,` (true: more may follow) or stops before `close` / anything else (false). */
  private separator(close: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== ',') return false;
    this.pos += 1;
    this.skipSpace();
    return this.text[this.pos] !== close;
  }

  private expect(char: string, reason: string): void {
    if (this.text[this.pos] !== char) this.fail(reason);
    this.pos += 1;
  }

  private name(): PyValue {
    NAME.lastIndex = this.pos;
    const start = this.pos;
    const word = (NAME.exec(this.text) as RegExpExecArray)[0];
    const next = this.text[start + word.length];
    if ((next === "'" || next === '"') && word.length <= 2) {
      if (/^[uUrR]$/.test(word)) {
        this.pos += word.length;
        return this.string(word.toLowerCase());
      }
      this.fail(`string prefix ${JSON.stringify(word)} is not supported (only u and r)`);
    }
    this.pos += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    const hint = JSON_SPELLINGS[word] === undefined ? '' : ` (Python spells it ${JSON_SPELLINGS[word]})`;
    return this.fail(`unexpected name ${JSON.stringify(word)}${hint}`, start);
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail('malformed number');
    const start = this.pos;
    this.pos += match[0].length;
    // `012`, `0x1f`, `1.`, `1_`: valid or not in Python, none of them belongs in this configuration.
    if (/[0-9A-Za-z_.]/.test(this.text[this.pos] ?? '')) this.fail('malformed number (decimal integers and floats only, no leading zeros)', start);
    const value = Number(match[0].replaceAll('_', ''));
    if (!/[.eE]/.test(match[0]) && !Number.isSafeInteger(value)) this.fail('integer too large', start);
    if (!Number.isFinite(value)) this.fail('number out of range', start);
    return value;
  }

  private string(prefix: string): string {
    const start = this.pos;
    const quote = this.text[this.pos] as string;
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const raw = prefix === 'r';
    this.pos += triple ? 3 : 1;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('unterminated string', start);
      if (c === quote && (!triple || this.text.startsWith(quote.repeat(3), this.pos))) {
        this.pos += triple ? 3 : 1;
        return out;
      }
      if ((c === '\n' || c === '\r') && !triple) this.fail('newline in a string (use \\n)');
      if (c !== '\\') {
        out += c;
        this.pos += 1;
        continue;
      }
      const next = this.text[this.pos + 1];
      if (next === undefined) this.fail('unterminated string', start);
      if (raw) {
        // A raw string keeps the backslash; it only stops the next character from ending the string.
        out += c + next;
        this.pos += 2;
        continue;
      }
      out += this.escape(next);
    }
  }

  /** At a backslash followed by `next`; returns the text it stands for and moves past it. */
  private escape(next: string): string {
    const at = this.pos;
    this.pos += 2;
    if (next === '\n') return '';
    if (next === '\r') {
      if (this.text[this.pos] === '\n') this.pos += 1;
      return '';
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) return simple;
    if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(this.text.slice(at + 1, at + 4))?.[0] ?? next;
      this.pos = at + 1 + digits.length;
      return String.fromCodePoint(parseInt(digits, 8));
    }
    const width = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = this.text.slice(this.pos, this.pos + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) this.fail(`truncated \\${next} escape (needs ${width} hex digits)`, at);
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.fail(`\\U escape beyond U+10FFFF`, at);
      this.pos += width;
      return String.fromCodePoint(code);
    }
    if (next === 'N') this.fail('\\N{...} escapes are not supported', at);
    // Python keeps unknown escapes as written (backslash included).
    return `\\${next}`;
  }
}
