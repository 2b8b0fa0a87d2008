import { describe, expect, it } from 'vitest';
import { parsePythonLiteral, PythonLiteralError } from '../../src/collections/python-literal.js';
import { toPythonLiteral } from '../../src/collections/python-repr.js';

function failure(text: string): PythonLiteralError {
  try {
    parsePythonLiteral(text);
  } catch (error) {
    if (error instanceof PythonLiteralError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parsePythonLiteral', () => {
  it('reads the repr of a nested dict with single quotes, booleans and None', () => {
    const text = "{'collections_all': {'db.core.addresses': {'db': 'core', 'table': 'addresses', 'pii': 'true', 'n': -12, 'on': True, 'off': False, 'x': None, 'l': [1, 2.5, 'a']}}}";
    expect(parsePythonLiteral(text)).toEqual({
      collections_all: { 'db.core.addresses': { db: 'core', table: 'addresses', pii: 'true', n: -12, on: true, off: false, x: null, l: [1, 2.5, 'a'] } },
    });
  });

  it('reads double-quoted strings, quotes of the other kind inside, and escaped quotes', () => {
    expect(parsePythonLiteral(`["it's", 'say "hi"', 'it\\'s', "a \\"b\\""]`)).toEqual(["it's", 'say "hi"', "it's", 'a "b"']);
  });

  it('decodes the escapes Python knows, and keeps unknown ones as written', () => {
    expect(parsePythonLiteral(String.raw`'\\ \n\t\r \x41\101\0 \u00e9 \U0001F600 \a\b\f\v \d'`))
      .toBe('\\ \n\t\r A\u0041\0 é 😀 \x07\b\f\v \\d');
  });

  it('keeps non-ASCII text and a pair of \\u surrogate escapes', () => {
    expect(parsePythonLiteral("{'nom': 'Zoë Ünïcødé 北京', 's': '\\ud83d\\ude00'}")).toEqual({ nom: 'Zoë Ünïcødé 北京', s: '😀' });
  });

  it('accepts u and r prefixes, triple quotes, comments, trailing commas and line breaks', () => {
    const text = "{\n  # the collections\n  'a': u'caf\\xe9',\n  'b': r'C:\\dir\\n',\n  'c': '''two\nlines''',\n  'd': [1, 2,],\n}";
    expect(parsePythonLiteral(text)).toEqual({ a: 'café', b: 'C:\\dir\\n', c: 'two\nlines', d: [1, 2] });
  });

  it('treats a backslash before a newline inside a string as a line continuation', () => {
    expect(parsePythonLiteral("'ab\\\ncd'")).toBe('abcd');
  });

  it('reports the line and column of a missing colon', () => {
    const error = failure("{'a': 1,\n 'b' 2}");
    expect(error.reason).toBe("expected ':' after a dict key");
    expect([error.line, error.column, error.offset]).toEqual([2, 6, 14]);
    expect(error.message).toBe("expected ':' after a dict key at line 2, column 6");
  });

  it.each([
    ["{'a': true}", 'unexpected name "true" (Python spells it True)'],
    ["{'a': 'open}", 'unterminated string'],
    ["{'a': 'x\ny'}", 'newline in a string (use \\n)'],
    ["{1: 'a'}", 'dict keys must be strings'],
    ["{'a': 1, 'a': 2}", 'repeated dict key "a"'],
    ["{'a': 1 'b': 2}", "expected ',' or '}' in a dict"],
    ['[1, 2', "expected ',' or ']' in a list"],
    ["{'a': 1} x", 'unexpected text after the value'],
    ["'\\x4'", 'truncated \\x escape (needs 2 hex digits)'],
    ["'\\N{DASH}'", '\\N{...} escapes are not supported'],
    ["b'bytes'", 'string prefix "b" is not supported (only u and r)'],
    ['012', 'malformed number (decimal integers and floats only, no leading zeros)'],
    ['123456789012345678901', 'integer too large'],
    ['', 'unexpected end of input, expected a value'],
    ['(1, 2)', 'unexpected "(", expected a value'],
  ])('rejects %j: %s', (text, reason) => {
    expect(failure(text).reason).toBe(reason);
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    expect(failure('['.repeat(100) + ']'.repeat(100)).reason).toBe('nesting deeper than 64');
  });

  it('does not let a "__proto__" key change the prototype of the result', () => {
    const value = parsePythonLiteral("{'__proto__': {'polluted': 'yes'}}") as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('toPythonLiteral', () => {
  it('writes dicts, lists and scalars as Python repr does', () => {
    expect(toPythonLiteral({ a: [1, true, false, null], b: 'x' })).toBe("{'a': [1, True, False, None], 'b': 'x'}");
  });

  it('escapes quotes, backslashes and control characters, keeping printable unicode', () => {
    expect(toPythonLiteral("it's a\\b\n\u0001 é 😀")).toBe("'it\\'s a\\\\b\\n\\x01 é 😀'");
  });

  it('round-trips through parsePythonLiteral', () => {
    const value = { "k'ey": ['tab\there', 'lone \ud800 surrogate', 'Ünïcødé', 7, -3, 1.5], nested: { none: null } };
    expect(parsePythonLiteral(toPythonLiteral(value))).toEqual(value);
  });
});
