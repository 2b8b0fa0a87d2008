import type { Alert } from '../alerts/alert.js';
import type { TriggerPorts } from './ports.js';

/**
 * The ports of a dry run (`trigger --dry-run`): the same guard as a real trigger, on the same reads, with every
 * write taken out. Status transitions are accepted without being written (so reconciliation and this run's
 * rows move only in memory), the launch lock is only looked at, alerts are collected instead of sent, and
 * RunJobFlow is never reached (the trigger stops at "would launch"). Nothing is created on the endpoint.
 */
export function dryRunPorts(ports: TriggerPorts, wouldAlert: Alert[]): TriggerPorts {
  return {
    ...ports,
    status: {
      transition: () => Promise.resolve(true),
      get: (id, collection) => ports.status.get(id, collection),
      blockingRows: (collection) => ports.status.blockingRows(collection),
    },
    lock: {
      acquire: (owner, now) => ports.lock.peek(owner, now),
      peek: (owner, now) => ports.lock.peek(owner, now),
      renew: () => Promise.resolve(true),
      recordLaunch: () => Promise.resolve(true),
      release: () => Promise.resolve(true),
    },
    emr: {
      describeCluster: (id) => ports.emr.describeCluster(id),
      listClusters: (states) => ports.emr.listClusters(states),
      runJobFlow: () => Promise.reject(new Error('a dry run never launches')),
      terminate: () => Promise.reject(new Error('a dry run never terminates')),
    },
    alerts: { publish: (alert) => Promise.resolve(void wouldAlert.push(alert)) },
  };
}
