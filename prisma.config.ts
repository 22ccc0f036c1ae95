import { defineConfig } from 'prisma/config';

// The service applies migrations itself (src/store/migrator.ts); this file serves the Prisma CLI
// (`prisma generate`, and `prisma migrate status` where the schema engine is available).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/latchkey' },
});
