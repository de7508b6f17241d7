import { type ColumnKind, toNumber } from './rows.js';

/** Who performed an audited action: a token's name and role, or `system` and `client`. */
export interface AuditActor {
  /** Token name for admin actions, `system` for server-side ends, `client` for SDK-reported ends. */
  name: string;
  role: 'admin' | 'analyst' | 'system' | 'client';
}

/** One row of the `audit_log` table. */
export interface AuditRow {
  /** Increasing number of the entry; the cursor of `GET /v1/admin/audit`. */
  seq: number;
  /** Server time of the action, epoch ms. */
  createdAt: number;
  actorName: string;
  actorRole: AuditActor['role'];
  /** Such as `session.end`, `session.terminate` or `settings.update`. */
  action: string;
  /** Kind of the target: `session`, `user`, `settings`, `policy` or `user_group`. */
  targetType: string;
  targetId: string | null;
  /** End reason, or the free-text reason an admin gave. */
  reason: string | null;
  /** Extra facts of the action as a JSON object, such as the changed settings. */
  details: Record<string, unknown> | null;
}

/** Columns of `audit_log` in table order: name, row field and kind. */
export const AUDIT_COLUMNS = [
  ['seq', 'seq', 'bigint'],
  ['created_at', 'createdAt', 'bigint'],
  ['actor_name', 'actorName', 'text'],
  ['actor_role', 'actorRole', 'text'],
  ['action', 'action', 'text'],
  ['target_type', 'targetType', 'text'],
  ['target_id', 'targetId', 'text'],
  ['reason', 'reason', 'text'],
  ['details', 'details', 'json'],
] as const satisfies ReadonlyArray<readonly [string, keyof AuditRow, ColumnKind]>;

/** One row of the `ingest_errors` table: an ingest request rejected with a 4xx status. */
export interface IngestErrorRow {
  seq: number;
  /** Server time of the request, epoch ms. */
  createdAt: number;
  status: number;
  /** Error code of the response body, such as `invalid_batch`. */
  code: string;
  message: string;
  /** App id of the batch, when the body named a valid one. */
  appId: string | null;
  sessionId: string | null;
  /** Origin header of the request. */
  origin: string | null;
  requestId: string | null;
}

/** A custom policy as stored in the `policies` table. */
export interface PolicyRow {
  id: string;
  name: string;
  appId: string | null;
  userGroup: string | null;
  /** Settings the policy sets; every other setting comes from the defaults. */
  overrides: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

function toNullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Parses a JSON object column; anything else becomes null. */
export function toJsonObject(value: unknown): Record<string, unknown> | null {
  if (typeof value !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return isObject ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Converts an `audit_log` row object from DuckDB into an `AuditRow`. */
export function toAuditRow(raw: Record<string, unknown>): AuditRow {
  return {
    seq: toNumber(raw.seq),
    createdAt: toNumber(raw.created_at),
    actorName: String(raw.actor_name),
    actorRole: String(raw.actor_role) as AuditActor['role'],
    action: String(raw.action),
    targetType: String(raw.target_type),
    targetId: toNullableString(raw.target_id),
    reason: toNullableString(raw.reason),
    details: toJsonObject(raw.details),
  };
}

/** Converts an `ingest_errors` row object from DuckDB into an `IngestErrorRow`. */
export function toIngestErrorRow(raw: Record<string, unknown>): IngestErrorRow {
  return {
    seq: toNumber(raw.seq),
    createdAt: toNumber(raw.created_at),
    status: toNumber(raw.status),
    code: String(raw.code),
    message: String(raw.message),
    appId: toNullableString(raw.app_id),
    sessionId: toNullableString(raw.session_id),
    origin: toNullableString(raw.origin),
    requestId: toNullableString(raw.request_id),
  };
}

/** Converts a `policies` row object from DuckDB into a `PolicyRow`. */
export function toPolicyRow(raw: Record<string, unknown>): PolicyRow {
  return {
    id: String(raw.id),
    name: String(raw.name),
    appId: toNullableString(raw.app_id),
    userGroup: toNullableString(raw.user_group),
    overrides: toJsonObject(raw.overrides) ?? {},
    createdAt: toNumber(raw.created_at),
    updatedAt: toNumber(raw.updated_at),
  };
}
