/**
 * Local and test helper: a SoftHSM2 token of Arca's own, under a folder of
 * ours (not the system token directory). Writes the SoftHSM2 config file and,
 * when the token does not exist yet, initialises it with a random SO PIN and
 * a random USER PIN, both kept in 0600 files in that folder and never logged.
 *
 * SoftHSM2 reads its configuration from SOFTHSM2_CONF when the module is
 * initialised: set `configPath` there before opening a session (the caller's
 * business, since it is process-wide). The token itself is initialised in a
 * child process, so this process's PKCS#11 state is untouched and no PIN
 * appears on a command line.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

export interface SoftHsmTokenOptions {
  /** Folder for the config file, the token directory and the PIN files. */
  readonly dir: string;
  /** Token label (at most 32 characters). */
  readonly label: string;
  /** The USER PIN to use; by default the one stored in `dir`, or a new random one. */
  readonly pin?: string;
  /** Path of libsofthsm2.so; by default $SOFTHSM2_MODULE or the usual install locations. */
  readonly modulePath?: string;
  /**
   * The label of a trusted AES-256 backup key (pkcs11-backup.ts) to make in
   * the token, as its security officer, unless the token has one: CKA_TRUSTED,
   * sensitive, never extractable, wrap and unwrap only. SoftHSM2 lets only the
   * SO set CKA_TRUSTED, and the SO makes public objects only, so this key is a
   * public object; like the PIN files, the token folder's permissions keep it.
   */
  readonly backupKeyLabel?: string;
}

export interface SoftHsmToken {
  readonly modulePath: string;
  /** Set as SOFTHSM2_CONF in the environment before the module is loaded. */
  readonly configPath: string;
  readonly tokenDir: string;
  readonly label: string;
  /** The slot ID (hex, as PKCS#11 reports it); the label is what finds the slot. */
  readonly slotId: string;
  /** The USER PIN (not enumerable, so it stays out of logs and JSON). Never log it. */
  readonly pin: string;
  /** True when this call initialised the token. */
  readonly created: boolean;
  /** The label of the token's trusted backup key, when one was asked for. */
  readonly backupKeyLabel?: string;
}

export class SoftHsmNotInstalledError extends Error {
  override readonly name = 'SoftHsmNotInstalledError';
}

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/lib64/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  '/usr/local/opt/softhsm/lib/softhsm/libsofthsm2.so',
];

const INSTALL_HINT =
  'Install SoftHSM2: `apt-get install softhsm2` (Debian, Ubuntu), `dnf install softhsm` (Fedora, RHEL), ' +
  '`brew install softhsm` (macOS); or set SOFTHSM2_MODULE to the path of libsofthsm2.so.';

/** The SoftHSM2 PKCS#11 module of this machine, or a SoftHsmNotInstalledError saying how to install it. */
export function findSoftHsmModule(modulePath = process.env.SOFTHSM2_MODULE): string {
  if (modulePath) {
    if (existsSync(modulePath)) return modulePath;
    throw new SoftHsmNotInstalledError(
      `SoftHSM2 is not installed: ${modulePath} does not exist. ${INSTALL_HINT}`,
    );
  }
  const found = MODULE_CANDIDATES.find((candidate) => existsSync(candidate));
  if (found) return found;
  throw new SoftHsmNotInstalledError(`SoftHSM2 is not installed (libsofthsm2.so not found). ${INSTALL_HINT}`);
}

/** Writes the config for `dir` and initialises the token labelled `label` unless it exists. */
export async function ensureSoftHsmToken(options: SoftHsmTokenOptions): Promise<SoftHsmToken> {
  const { label } = options;
  if (label.length === 0 || Buffer.byteLength(label) > 32) {
    throw new Error('A SoftHSM2 token label is 1 to 32 bytes');
  }
  const modulePath = findSoftHsmModule(options.modulePath ?? process.env.SOFTHSM2_MODULE);
  const dir = resolve(options.dir);
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);

  const configPath = join(dir, 'softhsm2.conf');
  writeFileSync(
    configPath,
    [
      '# Written by Arca (lib/keys/hsm/softhsm-token.ts)',
      `directories.tokendir = ${tokenDir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  const pin = secretFile(join(dir, 'user-pin'), options.pin);
  const soPin = secretFile(join(dir, 'so-pin'));
  const { backupKeyLabel } = options;
  const result = initialiseInChild({ modulePath, configPath, label, pin, soPin, backupKeyLabel });
  const token = {
    modulePath,
    configPath,
    tokenDir,
    label,
    slotId: result.slotId,
    created: result.created,
    ...(backupKeyLabel !== undefined && { backupKeyLabel }),
  };
  // Not enumerable: logging or serialising the token does not show the PIN.
  return Object.defineProperty(token, 'pin', { value: pin, enumerable: false }) as SoftHsmToken;
}

/** Reads a secret kept in a 0600 file, or stores the given (or a new random) one there. */
function secretFile(path: string, given?: string): string {
  if (existsSync(path)) {
    const stored = readFileSync(path, 'utf8').trim();
    if (given !== undefined && given !== stored) {
      throw new Error(`The given PIN differs from the one stored in ${path}`);
    }
    chmodSync(path, 0o600);
    return stored;
  }
  const secret = given ?? randomBytes(24).toString('base64url');
  if (secret.length < 4 || secret.length > 255) throw new Error('A SoftHSM2 PIN is 4 to 255 characters');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

interface ChildInput {
  readonly pkcs11js: string;
  readonly modulePath: string;
  readonly label: string;
  readonly pin: string;
  readonly soPin: string;
  readonly backupKeyLabel?: string | undefined;
}

/**
 * Runs in a child node process (input on stdin, one JSON line out): finds the
 * token by label or initialises the first free slot's token with it, then
 * reports the slot ID after a fresh C_Initialize (SoftHSM2 renumbers the slot
 * of a newly initialised token). With a backup key label, makes that key as
 * the SO unless the token has it. Errors report CKR names only.
 */
const CHILD_SCRIPT = `
const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const pk = require(input.pkcs11js);
const strip = (label) => label.replace(/[ \\0]+$/, '');
const p = new pk.PKCS11();
const find = () => p.C_GetSlotList(true).find((slot) => {
  const info = p.C_GetTokenInfo(slot);
  return (info.flags & pk.CKF_TOKEN_INITIALIZED) !== 0 && strip(info.label) === input.label;
});
try {
  p.load(input.modulePath);
  p.C_Initialize();
  let slot = find();
  let created = false;
  if (!slot) {
    const free = p.C_GetSlotList(true).find((s) => (p.C_GetTokenInfo(s).flags & pk.CKF_TOKEN_INITIALIZED) === 0);
    if (!free) throw new Error('no free SoftHSM2 slot');
    p.C_InitToken(free, input.soPin, input.label.padEnd(32, ' '));
    const session = p.C_OpenSession(free, pk.CKF_RW_SESSION | pk.CKF_SERIAL_SESSION);
    p.C_Login(session, pk.CKU_SO, input.soPin);
    p.C_InitPIN(session, input.pin);
    p.C_Logout(session);
    p.C_CloseSession(session);
    p.C_Finalize();
    p.C_Initialize();
    slot = find();
    created = true;
  } else {
    const info = p.C_GetTokenInfo(slot);
    if ((info.flags & pk.CKF_USER_PIN_INITIALIZED) === 0) throw new Error('the token has no USER PIN');
  }
  if (!slot) throw new Error('the token vanished after initialisation');
  if (input.backupKeyLabel) {
    const session = p.C_OpenSession(slot, pk.CKF_RW_SESSION | pk.CKF_SERIAL_SESSION);
    p.C_Login(session, pk.CKU_SO, input.soPin);
    const byLabel = [
      { type: pk.CKA_TOKEN, value: true },
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_LABEL, value: input.backupKeyLabel },
    ];
    p.C_FindObjectsInit(session, byLabel);
    const existing = p.C_FindObjects(session, 1);
    p.C_FindObjectsFinal(session);
    if (existing.length === 0) {
      p.C_GenerateKey(session, { mechanism: pk.CKM_AES_KEY_GEN }, [
        ...byLabel,
        { type: pk.CKA_KEY_TYPE, value: pk.CKK_AES },
        { type: pk.CKA_VALUE_LEN, value: 32 },
        { type: pk.CKA_PRIVATE, value: false },
        { type: pk.CKA_SENSITIVE, value: true },
        { type: pk.CKA_EXTRACTABLE, value: false },
        { type: pk.CKA_TRUSTED, value: true },
        { type: pk.CKA_WRAP, value: true },
        { type: pk.CKA_UNWRAP, value: true },
        { type: pk.CKA_ENCRYPT, value: false },
        { type: pk.CKA_DECRYPT, value: false },
        { type: pk.CKA_SIGN, value: false },
        { type: pk.CKA_VERIFY, value: false },
        { type: pk.CKA_DERIVE, value: false },
      ]);
    }
    p.C_Logout(session);
    p.C_CloseSession(session);
  }
  p.C_Finalize();
  process.stdout.write(JSON.stringify({ slotId: slot.toString('hex'), created }) + '\\n');
} catch (error) {
  const ckr = /CKR_[A-Z0-9_]+/.exec(String(error && error.message));
  process.stdout.write(JSON.stringify({ error: ckr ? ckr[0] : String(error && error.message).split('\\n')[0] }) + '\\n');
  process.exitCode = 1;
}
`;

function initialiseInChild(input: Omit<ChildInput, 'pkcs11js'> & { configPath: string }): {
  slotId: string;
  created: boolean;
} {
  const { configPath, ...rest } = input;
  const payload: ChildInput = { ...rest, pkcs11js: createRequire(import.meta.url).resolve('pkcs11js') };
  const child = spawnSync(process.execPath, ['--input-type=commonjs', '-e', CHILD_SCRIPT], {
    input: JSON.stringify(payload),
    env: { ...process.env, SOFTHSM2_CONF: configPath, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  let answer: { slotId?: string; created?: boolean; error?: string } = {};
  try {
    answer = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}');
  } catch {
    answer = { error: child.error?.message ?? `exit status ${child.status}` };
  }
  if (answer.error !== undefined || answer.slotId === undefined) {
    throw new Error(
      `Could not initialise the SoftHSM2 token "${input.label}": ${answer.error ?? 'no answer'}`,
    );
  }
  return { slotId: answer.slotId, created: answer.created === true };
}
