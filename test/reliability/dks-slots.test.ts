import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/keys/slots.js';

/** The DKS client's bound on requests in flight (src/keys/slots.ts): the fix behind "DKS slow" in RELIABILITY.md. */
describe('Slots', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('never runs more tasks at once than its size, and runs every task', async () => {
    const slots = new Slots(3);
    let running = 0;
    let max = 0;
    const done = await Promise.all(Array.from({ length: 20 }, (_, i) => slots.run(async () => {
      running += 1;
      max = Math.max(max, running);
      await tick();
      running -= 1;
      return i;
    })));
    expect(max).toBe(3);
    expect(done).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('frees the slot of a task that throws', async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('lets a waiter give up at once on abort, without taking a slot', async () => {
    const slots = new Slots(1);
    let release!: () => void;
    const holder = slots.run(() => new Promise<void>((r) => { release = r; }));
    const controller = new AbortController();
    let ran = false;
    const waiter = slots.run(async () => { ran = true; }, controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiter).rejects.toThrow('stopped');
    release();
    await holder;
    expect(ran).toBe(false);
    await expect(slots.run(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it('refuses a size below 1', () => {
    expect(() => new Slots(0)).toThrow(RangeError);
  });
});
