// Idempotency stores shared by many worker processes: `require('sosopay/stores')`.
import type { IdempotencyStore, SosopayError, TokenClaim } from '../sosopay'

/** A claim's lease (ms), 30 s: after it another delivery may process the notification. */
export declare const DEFAULT_LEASE_MS: number
/** How long a `done` record is kept (ms), 7 days. */
export declare const DEFAULT_RETENTION_MS: number
/** `sosopay:notify:` */
export declare const DEFAULT_PREFIX: string
/** `sosopay_notifications` */
export declare const DEFAULT_TABLE: string
/** The path of `schema.sql` in this package. */
export declare const SCHEMA_PATH: string

/** The store's server could not be reached (or timed out): answer the gateway 503. */
export declare class StoreUnavailableError extends SosopayError {
  /** `'store_unavailable'` (not one of the core's variants). */
  readonly code: any
}

export interface LeaseOptions {
  /** The claim's lease in ms (default 30 000). The handler must finish within it. */
  leaseMs?: number
  /** How long done records are kept, in ms (default 7 days). */
  retentionMs?: number
  /** Each store command's timeout in ms (default 5 000): a 503, and the connection the command
   * went out on is not used again (README: "A command without an answer"). */
  commandTimeoutMs?: number
}

/** The claim/lease/complete/abandon contract shared by the stores. */
export declare class LeasedIdempotencyStore implements IdempotencyStore {
  readonly leaseMs: number
  readonly retentionMs: number
  /** Called instead of a process warning when a claim outlived its lease before completing. */
  onLeaseLost?: (id: string) => void
  begin(id: string): Promise<TokenClaim>
  /** `'held'`, `'lost'` (recorded although the lease had run out) or `'already'`. */
  complete(id: string, token?: string): Promise<'held' | 'lost' | 'already'>
  abandon(id: string, token?: string): Promise<boolean>
  status(id: string): Promise<'InProgress' | 'Done' | null>
  purge(): Promise<number>
  close(): Promise<void>
}

export interface RedisStoreOptions extends LeaseOptions {
  /** A connected node-redis (v4+) client or cluster (`createCluster`), or an ioredis client or
   * cluster: every record is one key, so Redis Cluster works. After a command timeout a node-redis
   * client is disconnected and connected again by the store; an ioredis one has its socket
   * destroyed (give it `autoResendUnfulfilledCommands: false`). */
  client?: unknown
  /** Or a URL: the store makes its own node-redis client (offline queue off). */
  url?: string
  /** Key prefix (default `sosopay:notify:`). */
  prefix?: string
}

export declare class RedisIdempotencyStore extends LeasedIdempotencyStore {
  constructor(options: RedisStoreOptions)
  readonly prefix: string
  key(id: string): string
}

export interface PostgresStoreOptions extends LeaseOptions {
  /** A `pg.Pool` (or anything with `query(text, values)`); give it `query_timeout` a little
   * above `commandTimeoutMs`, so a connection whose query timed out is dropped. */
  pool?: { query(text: string, values?: unknown[]): Promise<unknown> }
  /** Or a connection string: the store makes its own pool (`query_timeout` set). */
  connectionString?: string
  /** The table (default `sosopay_notifications`; `schema.table` allowed). */
  table?: string
}

export declare class PostgresIdempotencyStore extends LeasedIdempotencyStore {
  constructor(options: PostgresStoreOptions)
  readonly table: string
}

/** Creates the table and index if missing (`schema.sql`). Run it once at deployment. */
export declare function applySchema(
  target: string | { query(text: string): Promise<unknown> },
  options?: { table?: string },
): Promise<void>

/** The schema for `table`. */
export declare function schemaSql(table?: string): string
