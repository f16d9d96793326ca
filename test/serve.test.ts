/**
 * `waymark serve` as a user runs it: the built CLI (`bin/waymark.js`, so `npm run build` first;
 * `npm test` does) in its own process, with a loopback HTTP server standing in for a configured
 * webhook receiver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

interface Received {
  headers: IncomingHttpHeaders;
  body: { type: string; customer_id: string; journey_id: string };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(
    () =>
      new Promise((done) =>
        server.close(() => {
          done();
        }),
      ),
  );
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

async function serve(config: string, env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'waymark-serve-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'waymark.yaml'), config);
  const child: ChildProcess = spawn(
    process.execPath,
    ['bin/waymark.js', 'serve', '--config', dir, '--data', join(dir, 'data'), '--port', '0'],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  const stderr = { text: '' };
  child.stderr?.on('data', (chunk: Buffer) => (stderr.text += chunk.toString()));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /on (http:\/\/[^\s]+)/u.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => {
      reject(new Error(`serve exited with ${code}`));
    });
  });
  return { url, child, exited, stderr };
}

async function until<T>(what: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('waymark serve', () => {
  it('delivers journey events to a configured webhook, and stops cleanly on SIGTERM', async () => {
    const hook = await receiver();
    const { url, child, exited } = await serve(
      `
journeys:
  - id: welcome
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: hello, type: send, channel: in_app, content: { body: hi } }
webhooks:
  - name: CRM Sync
    url: "${hook.url}"
    events: ["journey.enrolled", "journey.completed"]
    auth: { type: bearer, token_env: CRM_TOKEN }
`,
      { CRM_TOKEN: 'sekret' },
    );
    const posted = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'signed_up', customer_id: 'c1' }),
    });
    expect(posted.status).toBe(202);

    await until(() => (hook.received.length >= 2 ? true : undefined));
    // Only the subscribed types, in order, with the configured credentials.
    expect(hook.received.map((r) => [r.body.type, r.body.customer_id, r.body.journey_id])).toEqual([
      ['journey.enrolled', 'c1', 'welcome'],
      ['journey.completed', 'c1', 'welcome'],
    ]);
    expect(hook.received[0]?.headers['authorization']).toBe('Bearer sekret');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('logs what `waymark validate` would warn about, once at start, and serves anyway', async () => {
    const { url, stderr } = await serve(
      `
channels:
  in_app: { provider: internal }
journeys:
  - id: orders
    entry: { event: order.placed }
    stages:
      - id: s
        steps:
          - { id: pause, type: wait, duration: 2 days }
          - { id: review, type: send, channel: in_app, content: { body: 'How was {{ event.properties.order_id }}?' } }
`,
      {},
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const warning = await until(() =>
      stderr.text
        .split('\n')
        .filter((line) => line.includes('"config: '))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .at(0),
    );
    expect(warning).toMatchObject({
      level: 'warn',
      line: 11,
      msg: expect.stringContaining(
        "config: journeys[0].stages[0].steps[1]: step 'review' reads event.…",
      ) as unknown,
    });
    expect(String(warning['file'])).toMatch(/waymark\.yaml$/u);
  });
});
