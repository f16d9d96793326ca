/**
 * The process-role flags of `waymark serve` and `waymark worker`, in-process: what is refused before
 * anything opens, and the tuning the flags give the worker. The processes themselves are exercised
 * on PostgreSQL by test/scaleout.test.ts (crash, shutdown, `--role api`).
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../program.js';
import { workerOptions } from './server-process.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CONFIG = join(ROOT, 'test/fixtures/scaleout');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, {});
  return { code, out, err };
}

describe('process roles on the command line', () => {
  it('refuses a role serve does not run, pointing at waymark worker', async () => {
    const result = await run('serve', '--config', CONFIG, '--role', 'worker');
    expect(result).toMatchObject({ code: 1, out: '' });
    expect(result.err).toBe(
      "error[INVALID_INPUT]: --role: expected all or api, got 'worker' (workers alone: waymark worker)\n",
    );
  });

  it.each([
    ['--batch-events', '0', '--batch-events: expected a whole number from 1 to 10000'],
    ['--batch-events', '2.5', '--batch-events: expected a whole number from 1 to 10000'],
    ['--lease-ms', '50', '--lease-ms: expected a whole number of milliseconds of at least 100'],
    ['--delivery-lease-ms', 'soon', '--delivery-lease-ms: expected a whole number'],
    ['--metrics-port', '70000', '--metrics-port: expected a port number 0-65535'],
  ])('worker refuses %s %s before opening anything', async (flag, value, message) => {
    const result = await run('worker', '--config', CONFIG, flag, value);
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain(`error[INVALID_INPUT]: ${message}`);
  });

  it('turns the flags into the worker tuning, with a default id naming host and process', () => {
    expect(
      workerOptions({
        batchEvents: '2000',
        leaseMs: '3000',
        deliveryLeaseMs: '5000',
        workerId: 'w1',
      }),
    ).toEqual({ workerId: 'w1', maxEvents: 2000, leaseMs: 3000, deliveryLeaseMs: 5000 });
    expect(workerOptions({}).workerId).toMatch(new RegExp(`-${process.pid}$`, 'u'));
  });

  it('claims 2,000 events per batch on PostgreSQL and 500 (the worker default) on SQLite', () => {
    expect(workerOptions({}, 'postgres').maxEvents).toBe(2_000);
    expect(workerOptions({ batchEvents: '300' }, 'postgres').maxEvents).toBe(300);
    expect(workerOptions({}, 'sqlite').maxEvents).toBeUndefined();
  });
});
