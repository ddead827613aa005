import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { LocalVaultInfo } from '#lib/local/local-vault.ts';
import { dataDirWithTestCa } from '../support/environment.ts';

const root = join(import.meta.dirname, '..', '..');

function start(dataDir: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts'], {
    cwd: root,
    env: { ...env, ARCA_DATA_DIR: dataDir, ARCA_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function waitForInfo(dataDir: string, child: ChildProcess): Promise<LocalVaultInfo> {
  const file = join(dataDir, 'local.json');
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('local.json never appeared');
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((done) => {
    child.once('exit', (code) => done(code));
    child.kill(signal);
  });
}

function client(info: LocalVaultInfo): SecretClient {
  const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
  return new SecretClient(info.vaultUrl, credential, { disableChallengeResourceVerification: true });
}

const portIsClosed = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(true));
  });

describe('npm start', () => {
  const data = dataDirWithTestCa();
  after(() => data.remove());

  it('serves the dev vault, stops cleanly on SIGTERM, and keeps every secret across a restart', async () => {
    const first = start(data.dir);
    const info = await waitForInfo(data.dir, first);
    assert.equal(
      statSync(join(data.dir, 'local.json')).mode & 0o777,
      0o600,
      'local.json is readable by its owner only',
    );
    await client(info).setSecret('survives-restart', 'still-here');
    const caBefore = createHash('sha256').update(readFileSync(info.caCertPath)).digest('hex');
    const dynamoPort = Number(new URL(info.dynamoDbEndpoint).port);
    assert.equal(await portIsClosed(dynamoPort), false, 'DynamoDB Local runs while the vault does');
    assert.equal(await stop(first, 'SIGTERM'), 0);
    assert.equal(await portIsClosed(dynamoPort), true, 'DynamoDB Local stopped with the vault');

    rmSync(join(data.dir, 'local.json'));
    const second = start(data.dir);
    const again = await waitForInfo(data.dir, second);
    assert.equal(again.clientId, info.clientId, 'the development client is kept');
    assert.equal(again.clientSecret, info.clientSecret);
    assert.equal(
      createHash('sha256').update(readFileSync(again.caCertPath)).digest('hex'),
      caBefore,
      'the CA is kept',
    );
    assert.equal((await client(again).getSecret('survives-restart')).value, 'still-here');
    assert.equal(await stop(second, 'SIGINT'), 0);
  });

  it('says in one line what to install when Java is missing, and exits 1', async () => {
    // A PATH with nothing on it: node is started by its absolute path, java cannot be found.
    const emptyBin = join(data.dir, 'empty-bin');
    mkdirSync(emptyBin);
    const child = start(join(data.dir, 'no-java'), { ...process.env, PATH: emptyBin });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise((done) => child.once('exit', done));
    assert.equal(code, 1);
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => !/Warning|versions published|node >=22|upgrade|a\.co|trace-warnings|^$/.test(l));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0] as string, /Java 17/);
  });
});
