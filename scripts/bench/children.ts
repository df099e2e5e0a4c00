/**
 * The runner's side of a server child: spawned with `node --import tsx`, an IPC channel for
 * commands, stderr kept for diagnostics, stopped (and waited for) by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { profilerFlags } from './perf-profile.ts';
import type { Command, ProcessStats, Reply } from './shared.ts';

type Pending = { resolve: (reply: Extract<Reply, { type: 'reply' }>) => void; reject: (err: Error) => void };
type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never;

export class ServerChild {
  url = '';
  /** The child's scratch folder; the child removes it on a normal exit, `kill()` otherwise. */
  private tempDir?: string;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = '';
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    child.stdout!.resume();
    child.on('message', (message: Reply) => {
      if (message.type !== 'reply') return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.error) waiter.reject(new Error(`${name}: ${message.error}`));
      else waiter.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})\n${this.stderr}`));
      this.pending.clear();
    });
  }

  /** Starts `script` (relative to this folder) and resolves once it reports its URL. */
  static async start(name: string, script: string, timeoutMs = 30_000): Promise<ServerChild> {
    const file = fileURLToPath(new URL(script, import.meta.url));
    const child = spawn(process.execPath, [...profilerFlags(name), '--import', 'tsx', file], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const server = new ServerChild(name, child);
    server.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        server.kill();
        reject(new Error(`${name} did not start in ${timeoutMs} ms\n${server.stderr}`));
      }, timeoutMs);
      child.on('message', (message: Reply) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          server.tempDir = message.tempDir;
          resolve(message.url);
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (${code ?? signal})\n${server.stderr}`));
      });
    });
    return server;
  }

  private request(body: CommandBody, timeoutMs = 60_000): Promise<Extract<Reply, { type: 'reply' }>> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running\n${this.stderr}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${body.cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.child.send({ ...body, id } as Command);
    });
  }

  async mint(n: number): Promise<string[]> {
    return (await this.request({ cmd: 'mint', n })).tokens!;
  }

  async mintAccess(n: number): Promise<string[]> {
    return (await this.request({ cmd: 'mint-access', n })).tokens!;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stats(): Promise<ProcessStats> {
    return (await this.request({ cmd: 'stats' })).stats!;
  }

  /**
   * Ends the child: closing the IPC channel makes it exit by itself (which lets --cpu-prof
   * write its profile); SIGKILL if it has not gone after `graceMs`.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Synchronous last resort (process 'exit' handler). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
  }
}
