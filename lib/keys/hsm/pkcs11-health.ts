/**
 * The PKCS#11 token's health, for the HSM health route: the process's shared
 * session is used (opening it, if it is not open yet, is the proof that the
 * module loads, the token is there and the USER PIN logs in), then the token
 * and session information are read. Two cheap calls, no key is touched.
 *
 * Nothing here carries the PIN: it stays inside the session.
 */
import type { Pkcs11Session } from './pkcs11-session.ts';
import { ck, normaliseTokenLabel } from './pkcs11-session.ts';

export interface Pkcs11TokenInfo {
  readonly tokenLabel: string;
  readonly manufacturer: string;
  readonly model: string;
  /** The session is logged in as USER (CKS_RW_USER_FUNCTIONS). */
  readonly loggedIn: boolean;
  /** The token says the USER PIN is locked, or that a wrong PIN was entered lately (count low, final try). */
  readonly pinLocked: boolean;
  readonly pinCountLow: boolean;
  /** Memory figures in bytes, where the token reports them (CloudHSM and SoftHSM2 may not). */
  readonly freePublicMemory?: number;
  readonly totalPublicMemory?: number;
  readonly freePrivateMemory?: number;
  readonly totalPrivateMemory?: number;
  /** Sessions this process has open on the token, and the most it may have, where reported. */
  readonly sessionCount?: number;
  readonly maxSessionCount?: number;
}

/** PKCS#11 session state: a read-write session logged in as USER. */
const CKS_RW_USER_FUNCTIONS = 3;

/** Reads the token and session information through the session (which it opens if needed). */
export function probePkcs11Token(session: Pkcs11Session): Promise<Pkcs11TokenInfo> {
  return session.run(
    (pkcs11, handle, slot) => {
      const token = pkcs11.C_GetTokenInfo(slot);
      const state = pkcs11.C_GetSessionInfo(handle).state;
      return {
        tokenLabel: normaliseTokenLabel(token.label),
        manufacturer: trimmed(token.manufacturerID),
        model: trimmed(token.model),
        loggedIn: state === CKS_RW_USER_FUNCTIONS,
        pinLocked: (token.flags & ck.CKF_USER_PIN_LOCKED) !== 0,
        pinCountLow: (token.flags & (ck.CKF_USER_PIN_COUNT_LOW | ck.CKF_USER_PIN_FINAL_TRY)) !== 0,
        ...figure('freePublicMemory', token.freePublicMemory),
        ...figure('totalPublicMemory', token.totalPublicMemory),
        ...figure('freePrivateMemory', token.freePrivateMemory),
        ...figure('totalPrivateMemory', token.totalPrivateMemory),
        ...figure('sessionCount', token.sessionCount),
        ...figure('maxSessionCount', token.maxSessionCount),
      };
    },
    { operation: 'read the token information' },
  );
}

function trimmed(text: string): string {
  return text.replace(/[ \0]+$/, '');
}

/**
 * A CK_ULONG figure, or nothing when the token reports CK_UNAVAILABLE_INFORMATION
 * (all ones: 0xFFFFFFFF or 0xFFFFFFFFFFFFFFFF; pkcs11js gives the memory
 * figures as bigints) or CK_EFFECTIVELY_INFINITE (0, for the session maximum).
 */
function figure<K extends string>(key: K, raw: number | bigint): { [P in K]?: number } {
  const value = typeof raw === 'bigint' && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value === 0xffff_ffff)
    return {};
  if (key === 'maxSessionCount' && value === 0) return {};
  return { [key]: value } as { [P in K]?: number };
}
