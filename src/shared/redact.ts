/**
 * Secrets taken out of what the CLI prints (`trigger --dry-run`): PEM blocks, passwords in URLs, and the values
 * of keys that name a secret value (password, token, secret key, credentials, private key). Names and ids of
 * secrets (`collectionsSecret`, `dksCertSecret`) and file paths are not secret and stay.
 */
export const REDACTED = '<redacted>';

const SECRET_KEY = /(password|passwd|token|secret[-_.]?(access[-_.]?)?key|credentials?|private[-_.]?key|session[-_.]?key)$/i;

export function redactSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (value.includes('-----BEGIN')) return `${REDACTED} (PEM)`;
    if (key !== '' && SECRET_KEY.test(key)) return REDACTED;
    return redactUrlPassword(value);
  }
  if (Array.isArray(value)) {
    // A flag list: the value after a flag that names a secret is one.
    return value.map((item, i) => redactSecrets(item, typeof value[i - 1] === 'string' && String(value[i - 1]).startsWith('--') ? String(value[i - 1]).replace(/^--/, '') : ''));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v, k)]));
  }
  return value;
}

function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]+):[^/@\s]+@/i, `$1:${REDACTED}@`);
}
