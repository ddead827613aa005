/**
 * One logged-in PKCS#11 session per process and token (DESIGN.md #5): the
 * module (CloudHSM's, or SoftHSM2's locally) is loaded and initialised once,
 * the slot is found by its token label (or, when configured, taken by its
 * ID, and its token's label checked), and one read-write session logged in
 * as USER is shared by every HSM key of the process.
 *
 * A PKCS#11 session runs one operation at a time, so every use goes through
 * `run`, which serialises the callers. Inside `run`, Init and the operation
 * are called back to back (synchronously, or awaited within the turn), so
 * operations of different callers never interleave on the session.
 *
 * CKR_* errors become our errors: input the token refuses is a
 * BadParameterError, everything else a ServiceUnavailableError naming the
 * CKR code. Messages never carry the PIN, key material or data.
 */
import { randomFillSync } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { BadParameterError, KeyVaultError, ServiceUnavailableError } from '#lib/errors.ts';

export type Pkcs11 = InstanceType<typeof pkcs11js.PKCS11>;
export type Pkcs11Handle = Buffer;

/** The pkcs11js module: constants (CKA_*, CKM_*, CKR_* …) and the PKCS11 class. */
export const ck = pkcs11js;

export interface Pkcs11SessionOptions {
  /** Path of the PKCS#11 module (.so). For SoftHSM2, SOFTHSM2_CONF must be set before the first open. */
  readonly modulePath: string;
  /** Label of the token, as set when it was initialised (blank padding ignored). */
  readonly tokenLabel: string;
  /**
   * The slot's ID (CK_SLOT_ID, as `softhsm2-util --show-slots` or the HSM's
   * tools list it). Without it, the slot is the one whose token has the label;
   * with it, that slot's token must have the label.
   */
  readonly slotId?: bigint;
  /** The USER PIN. Never logged, never put in an error. */
  readonly pin: string;
}

/** CKR codes that say the token refused the caller's input: a BadParameterError. */
const INPUT_REFUSED = new Set([
  'CKR_ARGUMENTS_BAD',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
]);

/**
 * CKR codes after which the session cannot be trusted any more: the next use
 * opens a new one. Besides a lost session, the codes a module may return from
 * a data step without ending the operation it belongs to (which would leave
 * the session busy: CKR_OPERATION_ACTIVE for everything after).
 */
const RESET_AFTER = new Set([
  'CKR_ARGUMENTS_BAD',
  'CKR_BUFFER_TOO_SMALL',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_OPERATION_ACTIVE',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
]);

/** The CKR_* name of a PKCS#11 error, or undefined for any other error. */
export function ckrOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (/^CKR_[A-Z0-9_]+$/.test(error.message)) return error.message;
  if (typeof code === 'number' && code !== 0) {
    for (const [name, value] of Object.entries(pkcs11js)) {
      if (name.startsWith('CKR_') && value === code) return name;
    }
    return `CKR_0x${code.toString(16)}`;
  }
  return undefined;
}

export interface TranslateOptions {
  /**
   * Also treat these codes as refused input. SoftHSM2 answers CKR_GENERAL_ERROR
   * when a ciphertext, a GCM tag or an RFC 3394 integrity check does not
   * verify; the keystore passes it here for the data step of decrypt and
   * unwrap only (after the Init call succeeded), where it means exactly that.
   */
  readonly inputRefused?: readonly string[];
}

/**
 * Our error for a failure of `operation` (e.g. "decrypt with RSA-OAEP"). Our
 * own KeyVaultErrors pass through. CKR_SIGNATURE_INVALID is the caller's to
 * turn into `false` (see `isSignatureInvalid`); here it is refused input.
 */
export function translatePkcs11Error(error: unknown, operation: string, options: TranslateOptions = {}) {
  if (error instanceof KeyVaultError) return error;
  const ckr = ckrOf(error);
  if (ckr === undefined) {
    const name = error instanceof Error ? error.name : 'unknown error';
    return new ServiceUnavailableError(`The HSM failed to ${operation} (${name}).`);
  }
  if (INPUT_REFUSED.has(ckr) || options.inputRefused?.includes(ckr) || isSignatureInvalid(error)) {
    return new BadParameterError(`The HSM refused the input to ${operation} (${ckr}).`);
  }
  if (ckr === 'CKR_MECHANISM_INVALID' || ckr === 'CKR_MECHANISM_PARAM_INVALID') {
    return new ServiceUnavailableError(`The HSM does not support ${operation} (${ckr}).`);
  }
  return new ServiceUnavailableError(`The HSM failed to ${operation} (${ckr}).`);
}

/** True for the CKR codes of a signature that does not verify (or is the wrong length). */
export function isSignatureInvalid(error: unknown): boolean {
  const ckr = ckrOf(error);
  return ckr === 'CKR_SIGNATURE_INVALID' || ckr === 'CKR_SIGNATURE_LEN_RANGE';
}

const scratch = Buffer.alloc(1);

/**
 * Empties this thread's OpenSSL error queue. A PKCS#11 module may run on
 * Node's own OpenSSL: SoftHSM2 links libcrypto, and the node binary exports
 * its OpenSSL's symbols, which the dynamic linker binds first. Whatever the
 * module leaves on the queue (a signature that does not verify, a bad padding,
 * a GCM tag that does not check) then makes later, unrelated Node operations
 * on the thread fail with that stale error: parsing a software key
 * (createPrivateKey), a TLS read or write of the local gateway. Node has no
 * API for ERR_clear_error; its synchronous random job clears the queue when
 * it returns, so one byte of randomness after each use of the module does.
 */
export function clearOpenSslErrorQueue(): void {
  randomFillSync(scratch);
}

/** Token labels are 32 bytes, blank padded (some modules pad with NULs). */
export function normaliseTokenLabel(label: string): string {
  return label.replace(/[ \0]+$/, '');
}

/** A loaded, initialised module, shared by the sessions of the process. */
interface LoadedModule {
  readonly pkcs11: Pkcs11;
  /** False when something else in the process had initialised the module already: leave it be. */
  readonly initialised: boolean;
  users: number;
}

const modules = new Map<string, LoadedModule>();

function acquireModule(modulePath: string): Pkcs11 {
  const loaded = modules.get(modulePath);
  if (loaded) {
    loaded.users++;
    return loaded.pkcs11;
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (error) {
    throw new ServiceUnavailableError(
      `The PKCS#11 module could not be loaded from ${modulePath} (${ckrOf(error) ?? (error as Error).name}).`,
    );
  }
  let initialised = true;
  try {
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrOf(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      pkcs11.close();
      throw translatePkcs11Error(error, 'initialise the PKCS#11 module');
    }
    initialised = false;
  }
  modules.set(modulePath, { pkcs11, initialised, users: 1 });
  return pkcs11;
}

function releaseModule(modulePath: string): void {
  const loaded = modules.get(modulePath);
  if (!loaded) return;
  loaded.users--;
  if (loaded.users > 0) return;
  modules.delete(modulePath);
  if (!loaded.initialised) return;
  try {
    loaded.pkcs11.C_Finalize();
  } catch {
    // The module is going away either way.
  }
  try {
    loaded.pkcs11.close();
  } catch {
    // Same.
  }
}

/** A logged-in RW session on one token. Use `sharedPkcs11Session` for the process-wide one. */
export class Pkcs11Session {
  readonly #options: Pkcs11SessionOptions;
  #pkcs11: Pkcs11 | undefined;
  #session: Pkcs11Handle | undefined;
  #slot: Pkcs11Handle | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Counts the sessions opened: object handles found under one generation are valid within it. */
  #generation = 0;
  /** What the token was found to lack, remembered per session (e.g. "oaep-sha256"). */
  readonly lacks = new Set<string>();

  private constructor(options: Pkcs11SessionOptions) {
    this.#options = options;
  }

  /** Loads the module (once per process), finds the token by label, opens a RW session and logs in. */
  static async open(options: Pkcs11SessionOptions): Promise<Pkcs11Session> {
    const session = new Pkcs11Session(options);
    session.#connect();
    return session;
  }

  get tokenLabel(): string {
    return this.#options.tokenLabel;
  }

  /** Increases each time a new underlying session is opened. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Runs `fn` with the session, one caller at a time. A session the token has
   * dropped (or may have left with an operation active) is replaced by a new
   * one on the next call; the failing call itself is not retried. With
   * `errors`, a failure is translated into our errors (translatePkcs11Error).
   */
  run<T>(
    fn: (pkcs11: Pkcs11, session: Pkcs11Handle, slot: Pkcs11Handle) => T | Promise<T>,
    errors?: { readonly operation: string } & TranslateOptions,
  ): Promise<T> {
    const result = this.#queue.then(async () => {
      try {
        if (this.#closed) throw new ServiceUnavailableError('The PKCS#11 session is closed.');
        if (this.#session === undefined) this.#connect();
        try {
          return await fn(this.#pkcs11 as Pkcs11, this.#session as Pkcs11Handle, this.#slot as Pkcs11Handle);
        } catch (error) {
          const ckr = ckrOf(error);
          if (ckr !== undefined && RESET_AFTER.has(ckr)) this.#disconnect();
          throw error;
        } finally {
          clearOpenSslErrorQueue();
        }
      } catch (error) {
        throw errors ? translatePkcs11Error(error, errors.operation, errors) : error;
      }
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Closes the session (the login ends with the last one) and, when nothing else uses it, finalises the module. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#disconnect();
  }

  #connect(): void {
    const { modulePath, tokenLabel, pin, slotId } = this.#options;
    const pkcs11 = acquireModule(modulePath);
    let session: Pkcs11Handle | undefined;
    try {
      const slot = findSlot(pkcs11, tokenLabel, slotId);
      session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
      try {
        pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
      } catch (error) {
        // Login is per application: another session of this process may have done it.
        if (ckrOf(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
      }
      this.#pkcs11 = pkcs11;
      this.#slot = slot;
      this.#session = session;
      this.#generation++;
    } catch (error) {
      if (session !== undefined) {
        try {
          pkcs11.C_CloseSession(session);
        } catch {
          // Best effort.
        }
      }
      releaseModule(modulePath);
      throw translatePkcs11Error(error, `open a session on token "${tokenLabel}"`);
    } finally {
      clearOpenSslErrorQueue();
    }
  }

  #disconnect(): void {
    const pkcs11 = this.#pkcs11;
    const session = this.#session;
    this.#session = undefined;
    this.#slot = undefined;
    this.#pkcs11 = undefined;
    if (pkcs11 === undefined || session === undefined) return;
    // No C_Logout: it would log out every session of the process on this token.
    // Closing the last one ends the login (and C_Finalize everything).
    try {
      pkcs11.C_CloseSession(session);
    } catch {
      // Already closed.
    }
    releaseModule(this.#options.modulePath);
    clearOpenSslErrorQueue();
  }
}

function findSlot(pkcs11: Pkcs11, tokenLabel: string, slotId?: bigint): Pkcs11Handle {
  const wanted = normaliseTokenLabel(tokenLabel);
  for (const slot of pkcs11.C_GetSlotList(true)) {
    if (slotId !== undefined && slotIdOf(slot) !== slotId) continue;
    const info = pkcs11.C_GetTokenInfo(slot);
    const initialised = (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0;
    if (initialised && normaliseTokenLabel(info.label) === wanted) return slot;
    if (slotId !== undefined) {
      throw new ServiceUnavailableError(
        `The PKCS#11 token in slot ${slotId} is ${initialised ? 'not' : 'not initialised, nor'} labelled "${wanted}".`,
      );
    }
  }
  throw new ServiceUnavailableError(
    slotId === undefined
      ? `No initialised PKCS#11 token is labelled "${wanted}".`
      : `No PKCS#11 slot with ID ${slotId} has a token.`,
  );
}

/** The CK_SLOT_ID of a slot handle (a native unsigned long, little-endian on the platforms Arca runs on). */
export function slotIdOf(slot: Pkcs11Handle): bigint {
  return slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0));
}

const shared = new Map<string, Promise<Pkcs11Session>>();

/** Where the shared session gets its PIN: the PIN, or a function read only when the session is opened. */
export type Pkcs11PinSource = string | (() => Promise<string>);

/**
 * The one session of this process for a module and token (opened on first
 * use). A PIN given as a function is called only to open the session, so a
 * PIN held elsewhere (Secrets Manager) is fetched once per process.
 */
export function sharedPkcs11Session(
  options: Omit<Pkcs11SessionOptions, 'pin'> & { readonly pin: Pkcs11PinSource },
): Promise<Pkcs11Session> {
  const key = `${options.modulePath}\n${normaliseTokenLabel(options.tokenLabel)}\n${options.slotId ?? ''}`;
  let session = shared.get(key);
  if (session === undefined) {
    const { pin } = options;
    session = (typeof pin === 'string' ? Promise.resolve(pin) : pin()).then((resolved) =>
      Pkcs11Session.open({ ...options, pin: resolved }),
    );
    shared.set(key, session);
    session.catch(() => shared.delete(key));
  }
  return session;
}

/** Closes the shared sessions (at shutdown, or in tests to reopen the token afresh). */
export async function closeSharedPkcs11Sessions(): Promise<void> {
  const sessions = [...shared.values()];
  shared.clear();
  for (const session of sessions) {
    try {
      await (await session).close();
    } catch {
      // A session that never opened has nothing to close.
    }
  }
}
