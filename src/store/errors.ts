/** Prisma's "unique constraint failed" (P2002), with the adapters' error shape too. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string; originalCode?: string }; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } };
  return e?.code === 'P2002' || e?.cause?.originalCode === '23505' || e?.meta?.driverAdapterError?.cause?.originalCode === '23505';
}
