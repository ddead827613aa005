import type { VaultUrl } from './vault-events.ts';

/**
 * Settings of the event functions (functions/events/*), which lib/config.ts
 * does not cover: that one describes the operation handlers. Each function
 * names the settings it needs; a missing one fails its first invocation
 * loudly, naming the variable.
 */
export interface EventsSettings {
  /** The EventBridge bus events are put on. */
  readonly ARCA_EVENT_BUS_NAME: string;
  /** The main table (the expiry sweep reads its index and writes notification markers). */
  readonly ARCA_TABLE_NAME: string;
  /** Vault hosts are {vault}.{domain}: the base of the `Id` in events. */
  readonly ARCA_VAULT_DOMAIN: string;
}

export function parseEventsConfig<K extends keyof EventsSettings>(
  env: Record<string, string | undefined>,
  names: readonly K[],
): Pick<EventsSettings, K> {
  const missing = names.filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    throw new Error(`Arca events are not configured: ${missing.map((n) => `${n}: required`).join('; ')}`);
  }
  const settings = Object.fromEntries(names.map((name) => [name, (env[name] as string).trim()]));
  if ('ARCA_VAULT_DOMAIN' in settings) settings.ARCA_VAULT_DOMAIN = settings.ARCA_VAULT_DOMAIN?.toLowerCase();
  return settings as Pick<EventsSettings, K>;
}

/** https://{vault}.{domain}, as the handlers answer (DESIGN.md #2). */
export function vaultUrlFor(domain: string): VaultUrl {
  return (vault) => `https://${vault.toLowerCase()}.${domain}`;
}
