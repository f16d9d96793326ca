/**
 * `waymark serve` with a NATS JetStream source, as a user runs it: the built CLI in its own process,
 * events published to the real NATS server on 127.0.0.1:4222, read back through the HTTP API.
 * Skipped, visibly, without a NATS server, unless WAYMARK_REQUIRE_NATS=1 (CI).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const reachable = await new Promise<boolean>((resolve) => {
  const socket = createConnection({ host: '127.0.0.1', port: 4222 });
  const done = (ok: boolean) => {
    socket.destroy();
    resolve(ok);
  };
  socket.setTimeout(1_000, () => {
    done(false);
  });
  socket.once('connect', () => {
    done(true);
  });
  socket.once('error', () => {
    done(false);
  });
});
if (!reachable && process.env['WAYMARK_REQUIRE_NATS'] === '1') {
  throw new Error('WAYMARK_REQUIRE_NATS=1 but no NATS server answers on 127.0.0.1:4222');
}
const skipReason = reachable
  ? ''
  : ' [SKIPPED: no NATS on 127.0.0.1:4222; set WAYMARK_REQUIRE_NATS=1 to make this a failure]';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until<T>(what: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!reachable)(`waymark serve with a NATS source${skipReason}`, () => {
  it('consumes published events into journeys, reports the source in /healthz, stops on SIGTERM', async () => {
    const id = randomUUID().replaceAll('-', '').slice(0, 12);
    const stream = `WAYMARK_SERVE_${id}`;
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    cleanups.push(async () => {
      await jsm.streams.delete(stream).catch(() => false);
      await nc.drain();
    });

    const dir = await mkdtemp(join(tmpdir(), 'waymark-serve-nats-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'waymark.yaml'),
      `
server:
  sources:
    - type: nats
      name: product
      stream: ${stream}
      subjects: ["s${id}.events.>"]
journeys:
  - id: welcome
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: wait, type: wait, duration: 30 days }
`,
    );
    const child: ChildProcess = spawn(
      process.execPath,
      ['bin/waymark.js', 'serve', '--config', dir, '--data', join(dir, 'data'), '--port', '0'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /on (http:\/\/[^\s]+)/u.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then((code) => {
        reject(new Error(`serve exited with ${code}: ${stderr}`));
      });
    });

    // The source creates the stream, then consumes.
    await until(async () => {
      const health = (await (await fetch(`${url}/healthz`)).json()) as {
        sources: { state: string }[];
      };
      return health.sources[0]?.state === 'running' ? true : undefined;
    });
    const js = jetstream(nc);
    await js.publish(
      `s${id}.events.signup`,
      JSON.stringify({ type: 'signed_up', customer_id: 'c1' }),
    );
    await js.publish(`s${id}.events.bad`, '{"type": ');

    const customer = await until(async () => {
      const response = await fetch(`${url}/v1/customers/c1`);
      if (response.status !== 200) return undefined;
      const body = (await response.json()) as { enrollments: { journey_id: string }[] };
      return body.enrollments.length > 0 ? body : undefined;
    });
    expect(customer.enrollments.map((e) => e.journey_id)).toEqual(['welcome']);
    const health = await until(async () => {
      const body = (await (await fetch(`${url}/healthz`)).json()) as {
        sources: { pending: number | null; ack_pending: number | null }[];
      };
      const source = body.sources[0];
      return source?.pending === 0 && source.ack_pending === 0 ? body : undefined;
    });
    expect(health.sources).toEqual([
      {
        name: 'product',
        type: 'nats',
        state: 'running',
        stream,
        durable: 'waymark',
        pending: 0,
        ack_pending: 0,
        last_error: null,
      },
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'ingest_source_messages_total{source="product",outcome="committed"} 1',
    );
    expect(metrics).toContain(
      'ingest_source_messages_total{source="product",outcome="rejected"} 1',
    );
    expect(stderr).toContain('"code":"INVALID_JSON"');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
