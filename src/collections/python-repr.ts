import type { PyValue } from './python-literal.js';

/**
 * Writes a value as a Python literal, the way `repr()` does for the types the legacy secret uses, so that
 * Python readers (`ast.literal_eval`) and `parsePythonLiteral` both read it back unchanged. Strings always
 * use single quotes (Python's repr switches to double quotes for strings holding `'`; both are valid).
 */
export function toPythonLiteral(value: PyValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'number') {
    // JS and Python print finite numbers alike (`1.5`, `1e+21`); NaN and Infinity have no literal.
    if (!Number.isFinite(value)) throw new RangeError(`${value} has no Python literal`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(toPythonLiteral).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pythonString(k)}: ${toPythonLiteral(v)}`).join(', ')}}`;
}

const NAMED: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function pythonString(text: string): string {
  let out = "'";
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    const code = c.charCodeAt(0);
    const named = NAMED[c];
    if (named !== undefined) out += named;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff && !isPairedSurrogate(text, i)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}'`;
}

function isPairedSurrogate(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code <= 0xdbff) return (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
  return (text.charCodeAt(i - 1) & 0xfc00) === 0xd800;
}
