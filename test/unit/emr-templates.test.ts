import { describe, expect, it } from 'vitest';
import { fillTemplate, TemplateError } from '../../src/orchestrator/emr/index.js';

const unset = (param: string): Error => new Error(`unset ${param}`);
const fill = (template: unknown, params: Record<string, string | number | boolean | string[] | undefined>) =>
  fillTemplate(template, params, { template: 'test', unset, optional: new Set(['OPT']) });

describe('fillTemplate', () => {
  it('gives a whole-string placeholder the parameter\'s type and substitutes text inside longer strings', () => {
    expect(fill({ n: '${N}', b: '${B}', s: 'a-${S}-z', list: '${L}' }, { N: 3, B: false, S: 'mid', L: ['x', 'y'] }))
      .toEqual({ n: 3, b: false, s: 'a-mid-z', list: ['x', 'y'] });
  });

  it('splices a list parameter standing alone in a list', () => {
    expect(fill(['script', '${ARGS}', 'tail'], { ARGS: ['--a', '1'] })).toEqual(['script', '--a', '1', 'tail']);
    expect(fill(['script', '${ARGS}'], { ARGS: [] })).toEqual(['script']);
  });

  it('drops a property or element that is exactly an unset optional parameter, and an object left empty by it', () => {
    expect(fill({ keep: 1, gone: '${OPT}', policy: { IdleTimeout: '${OPT}' }, list: ['a', '${OPT}'], empty: {} }, { OPT: undefined }))
      .toEqual({ keep: 1, list: ['a'], empty: {} });
  });

  it('refuses a placeholder that is not a parameter, naming it and the template', () => {
    expect(() => fill({ a: '${TYPO}' }, { NAME: 'x' })).toThrow(TemplateError);
    expect(() => fill({ a: 'x/${TYPO}' }, { NAME: 'x' })).toThrow(/\$\{TYPO\} at \$\.a, which is not a parameter/);
  });

  it('refuses an unset required parameter, alone or inside a longer string, with the caller\'s error', () => {
    expect(() => fill({ path: '${ROOT}/x' }, { ROOT: undefined })).toThrow('unset ROOT');
    expect(() => fill({ Properties: { 'hbase.rootdir': '${ROOT}' } }, { ROOT: undefined })).toThrow('unset ROOT');
  });

  it('leaves strings without placeholders, numbers, booleans and null alone', () => {
    const template = { a: 'plain $ {NOT}', b: 1, c: true, d: null };
    expect(fill(template, {})).toEqual(template);
  });
});
