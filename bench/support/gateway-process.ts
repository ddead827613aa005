/**
 * Starts and stops bench/support/serve-vault.ts: a local vault gateway in a
 * child process, so the benchmark process (the client, and whatever floor it
 * measures in-process) and the gateway each have an event loop of their own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVE_VAULT_PREFIX } from './common.ts';
import type { ServedVault, ServeVaultOptions } from './serve-vault.ts';

export interface GatewayProcess {
  readonly served: ServedVault;
  readonly child: ChildProcess;
}

/** One gateway process; resolves with its SERVE_VAULT line (URL, token, CA path). */
export function startGatewayProcess(options: ServeVaultOptions): Promise<GatewayProcess> {
  const script = join(import.meta.dirname, 'serve-vault.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
    // Only what the options say decides its configuration, not this process's ARCA_* variables.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARCA_'))),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('serve-vault did not start within 60 s'));
    }, 60_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith(SERVE_VAULT_PREFIX)) return;
      clearTimeout(timer);
      resolve({ served: JSON.parse(line.slice(SERVE_VAULT_PREFIX.length)) as ServedVault, child });
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve-vault exited before it was up (${code ?? signal})`));
    });
  });
}

/** Closes its stdin (it then stops itself); SIGKILL if it is still there after 10 s. */
export async function stopGatewayProcess(gateway: GatewayProcess): Promise<void> {
  const { child } = gateway;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
