/**
 * Settings of the audit-shipping function (functions/streams/audit-ship.ts),
 * which lib/config.ts does not cover: that one describes the operation
 * handlers. Read once, failing loudly when a variable is missing.
 */
export interface ShipConfig {
  readonly ARCA_AUDIT_FIREHOSE_STREAM: string;
  readonly ARCA_AUDIT_LOG_GROUP: string;
  readonly ARCA_AUDIT_LOG_STREAM: string;
  readonly ARCA_AUDIT_KINESIS_STREAM: string;
}

export function parseShipConfig(env: Record<string, string | undefined>): ShipConfig {
  const missing: string[] = [];
  const required = (name: string, fallback?: string): string => {
    const value = env[name]?.trim() || fallback;
    if (!value) missing.push(name);
    return value ?? '';
  };
  const config: ShipConfig = {
    ARCA_AUDIT_FIREHOSE_STREAM: required('ARCA_AUDIT_FIREHOSE_STREAM'),
    ARCA_AUDIT_LOG_GROUP: required('ARCA_AUDIT_LOG_GROUP'),
    ARCA_AUDIT_LOG_STREAM: required('ARCA_AUDIT_LOG_STREAM', 'audit'),
    ARCA_AUDIT_KINESIS_STREAM: required('ARCA_AUDIT_KINESIS_STREAM'),
  };
  if (missing.length > 0) {
    throw new Error(
      `Arca audit shipping is not configured: ${missing.map((n) => `${n}: required`).join('; ')}`,
    );
  }
  return config;
}
