/** One database session for raw SQL: the migrator and the invalidation listener need a fixed session. */
export interface SqlSession {
  /** Runs one or more statements with the simple query protocol. */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}
