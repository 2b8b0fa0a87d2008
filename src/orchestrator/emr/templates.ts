import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateError } from './errors.js';

/**
 * The cluster templates (`emr-config/cluster/*.json`, documented in its README): plain EMR API JSON with
 * `${PARAM}` placeholders. Filling rules, so a template reads like the request it becomes:
 * - a string that is exactly `${PARAM}` takes the parameter's typed value (number, boolean, string list);
 *   inside a list, a string-list value is spliced in place;
 * - a placeholder inside a longer string is replaced by the value's text;
 * - an **optional** parameter that is unset removes the property (or list element) that is exactly its
 *   placeholder, and an object left empty by that is removed too; any other unset parameter is an error
 *   (a replica launched without, say, its HBase root dir must never reach EMR);
 * - a placeholder that is not a known parameter is an error (a typo must not reach EMR).
 */
export const TEMPLATE_FILES = {
  cluster: 'cluster.json',
  instances: 'instances.json',
  configurations: 'configurations.json',
  bootstrapActions: 'bootstrap-actions.json',
  steps: 'steps.json',
} as const;

export type TemplateName = keyof typeof TEMPLATE_FILES;
export type ClusterTemplates = Readonly<Record<TemplateName, unknown>>;
export type ParamValue = string | number | boolean | readonly string[] | undefined;
export type TemplateParams = Readonly<Record<string, ParamValue>>;

export function readTemplates(dir: string): ClusterTemplates {
  const read = (name: TemplateName): unknown => {
    const path = join(dir, TEMPLATE_FILES[name]);
    if (!existsSync(path)) throw new TemplateError(`cluster template ${path} does not exist. Fix: point --emr-templates (INGEST_EMR_TEMPLATES) at the emr-config/cluster folder.`, { context: { template: path } });
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (error) {
      throw new TemplateError(`cluster template ${path} is not valid JSON: ${(error as Error).message}`, { context: { template: path }, cause: error });
    }
  };
  return Object.freeze(Object.fromEntries((Object.keys(TEMPLATE_FILES) as TemplateName[]).map((n) => [n, read(n)])) as Record<TemplateName, unknown>);
}

const DROP = Symbol('drop');
const WHOLE = /^\$\{([A-Z0-9_]+)\}$/;
const ANY = /\$\{([A-Z0-9_]+)\}/g;

export interface FillOptions {
  /** Which template is being filled: named in errors. */
  readonly template: string;
  /** Parameters that may be unset: their placeholder's property or element is then left out. */
  readonly optional: ReadonlySet<string>;
  /** The error for a required parameter that is unset (names the setting and its fix). */
  readonly unset: (param: string) => Error;
}

export function fillTemplate(template: unknown, params: TemplateParams, options: FillOptions): unknown {
  const filled = fill(template, params, options, '$');
  return filled === DROP ? undefined : filled;
}

function lookup(name: string, params: TemplateParams, options: FillOptions, path: string): ParamValue {
  if (!Object.hasOwn(params, name)) {
    throw new TemplateError(`cluster template ${options.template} uses \${${name}} at ${path}, which is not a parameter. Fix: use one of ${Object.keys(params).sort().join(', ')}.`, { context: { template: options.template, param: name } });
  }
  return params[name];
}

function fill(node: unknown, params: TemplateParams, options: FillOptions, path: string): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE.exec(node);
    if (whole) {
      const name = whole[1] as string;
      const value = lookup(name, params, options, path);
      if (value !== undefined) return value;
      if (options.optional.has(name)) return DROP;
      throw options.unset(name);
    }
    return node.replace(ANY, (_, name: string) => {
      const value = lookup(name, params, options, path);
      if (value === undefined) throw options.unset(name);
      if (Array.isArray(value)) throw new TemplateError(`cluster template ${options.template}: \${${name}} is a list and cannot be part of a string (${path})`);
      return String(value);
    });
  }
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    node.forEach((item, i) => {
      const value = fill(item, params, options, `${path}[${i}]`);
      if (value === DROP) return;
      // A list parameter standing alone in a list is spliced: ["script", "${STEP_ARGS}"] → ["script", "--a", "b"].
      if (Array.isArray(value) && typeof item === 'string' && WHOLE.test(item)) out.push(...(value as unknown[]));
      else out.push(value);
    });
    return out;
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    let dropped = false;
    for (const [key, item] of Object.entries(node)) {
      const value = fill(item, params, options, `${path}.${key}`);
      if (value === DROP) dropped = true;
      else out[key] = value;
    }
    return dropped && Object.keys(out).length === 0 ? DROP : out;
  }
  return node;
}
