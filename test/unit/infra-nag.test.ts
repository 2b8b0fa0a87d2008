import { describe, expect, it } from 'vitest';
import { SUPPRESSIONS } from '../../infra/nag.js';
import { testApp } from '../support/infra.js';

describe('cdk-nag AwsSolutions on the AWS stack', () => {
  it('has no finding left unacknowledged (a finding fails the synth)', () => {
    const { app } = testApp();
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('');
  });

  it('fails the synth on a new finding', () => {
    const { app, stack } = testApp();
    // A bucket without encryption settings beyond the default, logging or TLS-only policy.
    new (stack.outputBucket.constructor as new (s: unknown, id: string) => unknown)(stack, 'Unreviewed');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*Unreviewed/);
  });

  it('gives every acknowledgement a reason', () => {
    for (const s of SUPPRESSIONS) expect(s.reason.length, `${s.id} ${s.path}`).toBeGreaterThan(30);
  });
});
