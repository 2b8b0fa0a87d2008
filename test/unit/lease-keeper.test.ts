import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/logger.js';
import { StaleRunnerError } from '../../src/step/errors.js';
import { HeldLease } from '../../src/step/lease-keeper.js';
import { FakeLease } from '../support/fakes.js';

const owner = { collection: 'core:addresses', attempt: 'a1', correlationId: 'run-1' };
const settings = { leaseMs: 60_000, waitMs: 0 };

async function held(lease: FakeLease, clock: { t: number }): Promise<HeldLease> {
  const taken = await HeldLease.take(lease, owner, settings, { now: () => clock.t, logger: silentLogger });
  if (!(taken instanceof HeldLease)) throw new Error('lease not taken');
  return taken;
}

describe('HeldLease.fence', () => {
  it('lets writes through while the lease is far from expiring, without calling the lease', async () => {
    const lease = new FakeLease();
    const clock = { t: 1_000 };
    const h = await held(lease, clock);
    let renewals = 0;
    const renew = lease.renew.bind(lease);
    lease.renew = (...args) => { renewals += 1; return renew(...args); };
    clock.t += 10_000;
    await h.fence();
    expect(renewals).toBe(0);
  });

  it('renews a lease near expiry (a late timer under load) instead of failing the run', async () => {
    const lease = new FakeLease();
    const clock = { t: 1_000 };
    const h = await held(lease, clock);
    clock.t += 50_000; // within the margin (15 s) of the 60 s lease
    await Promise.all([h.fence(), h.fence(), h.fence()]);
    expect(lease.items.get(owner.collection)?.expiresAt).toBe(clock.t + settings.leaseMs);
    expect(h.signal.aborted).toBe(false);
  });

  it('refuses writes, and aborts the run, when another runner took the lease', async () => {
    const lease = new FakeLease();
    const clock = { t: 1_000 };
    const h = await held(lease, clock);
    clock.t += 70_000;
    await lease.acquire(owner.collection, { attempt: 'b2', correlationId: 'run-2' }, clock.t, settings.leaseMs);
    await expect(h.fence()).rejects.toBeInstanceOf(StaleRunnerError);
    expect(h.signal.aborted).toBe(true);
  });
});
