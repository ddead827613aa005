import { performance } from 'node:perf_hooks';
import type { Principal } from '../auth/token-verifier.ts';
import type { AuditEntry, AuditLog } from './audit-log.ts';
import { type AuditRecord, resultSignature } from './audit-record.ts';

export interface RequestFacts {
  readonly id: string;
  readonly time: string;
  readonly correlationId: string;
  readonly callerIpAddress: string;
  readonly clientInfo: string;
  readonly requestUri: string;
}

/**
 * Gathers one request's audit record as the request is understood (who,
 * which vault, which operation, how access was granted) and makes exactly one
 * record durable for it: committed with a change by the store, written ahead
 * of a read's response, or written when the request fails.
 */
export class AuditTrail {
  private readonly started = performance.now();
  private vault = '-';
  private resourceId = '/providers/Microsoft.KeyVault';
  private operationName = 'Authentication';
  private operationVersion = '';
  private principal: Principal | undefined;
  private grant: AuditRecord['properties']['accessGrant'];
  private objectId: string | undefined;
  private vaultUrl = '';
  /** The record already stored for this request (by a change's transaction or a write-ahead), if any. */
  private stored: AuditRecord | undefined;
  /** A change and its record landed together: the request must not then claim nothing changed. */
  private committedWithChange = false;

  constructor(
    private readonly log: AuditLog | undefined,
    private readonly facts: RequestFacts,
  ) {}

  forVault(name: string, url?: string): void {
    this.vault = name.toLowerCase();
    if (url) this.vaultUrl = url;
    this.resourceId = `/providers/Microsoft.KeyVault/vaults/${this.vault}`;
  }

  forOperation(operationName: string, operationVersion: string): void {
    this.operationName = operationName;
    this.operationVersion = operationVersion;
  }

  byPrincipal(principal: Principal): void {
    this.principal = principal;
  }

  grantedBy(grant: { via: string; id: string }): void {
    this.grant = grant;
  }

  aboutObject(id: string): void {
    this.objectId = id;
  }

  /**
   * The record of a change, for the store to commit in the change's own
   * transaction, with the status the change is expected to answer.
   */
  forChange(expectedStatus = 200): AuditEntry {
    let record: AuditRecord | undefined;
    return {
      record: (objectPath) => {
        const id = objectPath && `${this.vaultUrl}/${objectPath}`;
        // A more precise id (the new version) replaces the path's; another object's never does.
        if (id && (!this.objectId || id.startsWith(this.objectId))) this.objectId = id;
        record = this.build(expectedStatus);
        return record;
      },
      committed: () => {
        this.stored = record;
        this.committedWithChange = true;
      },
    };
  }

  /** A read's record, written while the read runs; awaited before any response leaves. */
  async writeAhead(): Promise<void> {
    const record = this.build(200);
    await this.log?.write(record);
    this.stored = record;
  }

  /**
   * Makes the request's final outcome durable, unless exactly that record is
   * already stored; a stored record with another outcome is overwritten (same id).
   */
  async settle(status: number, errorCode?: string): Promise<void> {
    const record = this.build(status, errorCode);
    const same =
      this.stored &&
      this.stored.properties.httpStatusCode === status &&
      this.stored.properties.id === record.properties.id;
    if (same) return;
    try {
      await this.log?.write(record);
    } catch (error) {
      // The change is made and recorded (with its expected outcome); failing the request now would
      // claim otherwise. Only the correction of the outcome is lost.
      if (this.committedWithChange) return;
      throw error;
    }
    this.stored = record;
  }

  private build(status: number, errorCode?: string): AuditRecord {
    const p = this.principal;
    return {
      id: this.facts.id,
      time: this.facts.time,
      resourceId: this.resourceId,
      vault: this.vault,
      operationName: this.operationName,
      operationVersion: this.operationVersion,
      category: 'AuditEvent',
      resultType: status < 400 ? 'Success' : 'Failure',
      resultSignature: resultSignature(status),
      resultDescription: errorCode ?? '',
      durationMs: Math.round(performance.now() - this.started),
      callerIpAddress: this.facts.callerIpAddress,
      correlationId: this.facts.correlationId,
      identity: {
        claim: {
          ...(p && { oid: p.objectId }),
          ...(p?.appId && { appid: p.appId }),
          ...(p?.tenantId && { tid: p.tenantId }),
          ...(p?.upn && { upn: p.upn }),
        },
      },
      properties: {
        clientInfo: this.facts.clientInfo,
        requestUri: this.facts.requestUri,
        httpStatusCode: status,
        ...(this.objectId && { id: this.objectId }),
        ...(this.grant && { accessGrant: this.grant }),
      },
    };
  }
}
