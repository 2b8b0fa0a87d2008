import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectionsFlag } from '../../src/cli/collections-flag.js';
import { buildProgram, versionText } from '../../src/cli/program.js';
import { LAUNCH_PASSES, stepConfigFrom } from '../../src/cli/settings-flags.js';
import { STEP_SETTINGS, type StepSettingKey } from '../../src/config/step-config.js';
import { runStepArgs } from '../../src/orchestrator/emr/index.js';
import { triggerOutcome } from '../../src/cli/trigger-outcome.js';
import { FailedRunsBlockError, RunDeferredError, ScheduleRefusedError, TriggerFailedError } from '../../src/orchestrator/trigger/index.js';
import { createLogger, logsArePretty } from '../../src/shared/logger.js';
import { prettyLine } from '../../src/shared/pretty-log.js';

function helpOf(...path: string[]): string {
  let command: Command = buildProgram();
  for (const name of path) command = command.commands.find((c) => c.name() === name) as Command;
  // Joined back into one line per paragraph: commander wraps descriptions to the terminal's width.
  let text = '';
  command.configureOutput({ writeOut: (t) => { text += t; }, writeErr: (t) => { text += t; } });
  command.outputHelp();
  return text.replace(/\s+/g, ' ');
}

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
}

describe('--help per command', () => {
  it('lists only the settings the command uses, each with its variable and default', () => {
    const status = helpOf('status');
    expect(status).toMatch(/--status-table <value> DynamoDB job status table \(env INGEST_STATUS_TABLE; default: intraday-job-status\)/);
    for (const unused of ['--dks-url', '--hbase-rest-url', '--spark-master', '--visibility-lag', '--output-bucket']) expect(status).not.toContain(unused);
    const ack = helpOf('ack');
    expect(ack).toContain('--status-table');
    expect(ack).not.toContain('--collections-secret');
    expect(helpOf('output', 'list')).toContain('--output-bucket');
    expect(helpOf('output', 'show')).not.toContain('--output-bucket');
    const run = helpOf('run');
    expect(run).toMatch(/--visibility-lag <value> .*?\(env INGEST_VISIBILITY_LAG; a duration with a unit, e\.g\. 90s, 15m, 1h15m; default: 1h15m\)/);
    expect(run).toMatch(/--concurrency <value> collections processed at once \(env INGEST_CONCURRENCY; default: 2\)/);
    // Every command that calls AWS takes all of the AWS target's settings; reprocess registers its runs in Glue too.
    for (const path of [['status'], ['ack'], ['output', 'list'], ['output', 'show'], ['purge-metadata'], ['reprocess']]) {
      for (const flag of ['--aws-endpoint-url', '--aws-service-endpoints', '--aws-emulator', '--aws-region']) expect(helpOf(...path), `${path.join(' ')} ${flag}`).toContain(`${flag} <value>`);
    }
    expect(helpOf('reprocess')).toContain('--glue-database <value>');
    // trigger: every step setting (--local runs the step here); those a cluster's step never gets are marked.
    const trigger = buildProgram().commands.find((c) => c.name() === 'trigger')!;
    const descriptionOf = (flag: string): string => trigger.options.find((o) => o.long === flag)?.description ?? `${flag} missing`;
    const launched = runStepArgs({ correlationId: 'c', triggeredTime: 1, endTime: 1, collections: [] }, { ...stepConfigFrom({}, false), kmsKeyId: 'k', keyService: 'dks' })
      .filter((a) => a.startsWith('--') && !['--correlation-id', '--triggered-time', '--end-time', '--collections'].includes(a));
    expect(launched.sort()).toEqual(LAUNCH_PASSES.filter((k) => !['awsEndpointUrl', 'awsServiceEndpoints', 'awsEmulator'].includes(k)).map((k) => STEP_SETTINGS[k].flag).sort());
    for (const key of Object.keys(STEP_SETTINGS) as StepSettingKey[]) {
      const { flag } = STEP_SETTINGS[key];
      if (LAUNCH_PASSES.includes(key)) expect(descriptionOf(flag), flag).not.toContain('only with --local');
      else expect(descriptionOf(flag), flag).toContain('only with --local');
    }
    expect(helpOf('schedule')).toMatch(/--launch-tolerance <value> .*?\(env INGEST_LAUNCH_TOLERANCE; a duration with a unit, e\.g\. 10m; default: 10m\)/);
  });

  it('lists the schedule settings only for the commands that judge the schedule, not for cluster start, stop or list', () => {
    for (const path of [['trigger'], ['schedule']]) expect(helpOf(...path), path.join(' ')).toContain('--launch-slots <value>');
    for (const sub of ['start', 'stop', 'list']) {
      const help = helpOf('cluster', sub);
      expect(help, `cluster ${sub}`).toContain('--cluster-name-prefix <value>');
      for (const flag of ['--launch-slots', '--maintenance-windows', '--schedule-time-zone', '--skip-bank-holidays', '--extra-bank-holidays', '--launch-tolerance']) {
        expect(help, `cluster ${sub}`).not.toContain(flag);
      }
    }
  });

  it('spells the collection flag --collections everywhere, keeping --collection hidden', () => {
    for (const path of [['status'], ['output', 'list'], ['run'], ['trigger']]) {
      const help = helpOf(...path);
      expect(help, path.join(' ')).toContain('--collections <ns:table...>');
      expect(help, path.join(' ')).not.toMatch(/--collection </);
    }
    expect(collectionsFlag({ collection: ['a:b'], collections: ['c:d,e:f'] })).toEqual(['c:d', 'e:f', 'a:b']);
    expect(collectionsFlag({})).toBeUndefined();
  });

  it('has --version, --json on output list, and the global log options on every command', () => {
    expect(versionText()).toMatch(/^ingest-replica \d+\.\d+\.\d+/);
    expect(helpOf('output', 'list')).toContain('--json');
    const help = helpOf('status');
    for (const flag of ['--log-format <format>', '--quiet', '--verbose', '--version']) expect(help).toContain(flag);
    expect(help).toContain('Durations need a unit: 500ms, 90s, 15m, 1h, 2d or 1h15m; a bare number (other than 0) is refused.');
  });
});

describe('trigger --json when it does not launch', () => {
  it('prints the outcome as the Lambda names it, with the exit code', () => {
    expect(triggerOutcome(new ScheduleRefusedError('not launching: maintenance window'))).toEqual({ exitCode: 3, json: { outcome: 'refused', exitCode: 3, message: 'not launching: maintenance window', context: {} } });
    expect(triggerOutcome(new RunDeferredError('still active', { context: { correlationId: 'r1' } })).json).toMatchObject({ outcome: 'deferred', context: { correlationId: 'r1' } });
    expect(triggerOutcome(new FailedRunsBlockError('failed rows', ['ingest-replica ack a:b'])).json).toMatchObject({ outcome: 'blocked', exitCode: 3, ackCommands: ['ingest-replica ack a:b'] });
    expect(triggerOutcome(new TriggerFailedError('boom'))).toMatchObject({ exitCode: 1, json: { outcome: 'failed' } });
  });
});

describe('logs', () => {
  it('are readable lines in pretty format and JSON lines in json format, both without plaintext or keys', () => {
    const pretty = capture();
    createLogger({ format: 'pretty', destination: pretty.stream as never }).info({ collection: 'core:addresses', records: 5, record: '{"secret":1}', key: { plaintextDataKey: 'AAAA' } }, 'collection summary');
    expect(pretty.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}INFO {3}collection summary {2}collection=core:addresses {2}records=5 {2}record=\[redacted\] {2}key=\{"plaintextDataKey":"\[redacted\]"\}\n$/);
    const json = capture();
    createLogger({ format: 'json', destination: json.stream as never }).info({ record: 'plain', dataKey: 'k' }, 'x');
    expect(JSON.parse(json.text())).toMatchObject({ level: 30, msg: 'x', record: '[redacted]', dataKey: '[redacted]' });
    expect(json.text() + pretty.text()).not.toMatch(/secret|plain"|AAAA/);
  });

  it('are pretty on a terminal unless json is asked for, and json when stderr is not a terminal', () => {
    expect(logsArePretty('auto', true)).toBe(true);
    expect(logsArePretty('auto', false)).toBe(false);
    expect(logsArePretty('json', true)).toBe(false);
    expect(logsArePretty('pretty', false)).toBe(true);
    expect(prettyLine('{"level":50,"time":"2026-12-07T10:30:00.123Z","msg":"failed","err":{"type":"DksError","message":"503"}}', false)).toBe('10:30:00.123  ERROR  failed\n    DksError: 503');
  });
});
