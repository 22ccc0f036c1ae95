import { DomainError } from '../errors.js';

export interface PageRequest {
  page_size: number;
  page_token?: string | undefined;
}

export interface Page<T> {
  data: T[];
  next_page_token: string | null;
}

/** A page of rows as the API shows it: each row presented, the token unchanged. */
export const presentPage = <T, U>(page: Page<T>, present: (row: T) => U): Page<U> => ({ data: page.data.map(present), next_page_token: page.next_page_token });

interface Cursor {
  createdAt: Date;
  id: string;
}

const PAGE_TOKEN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time between 1970 and the end of year 9999: what every timestamp column and JS Date agree on. */
export function isStorableTime(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST && time <= LATEST;
}

function encodePageToken(row: Cursor): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodePageToken(token: string): Cursor {
  try {
    const [time, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(time as string);
    // Only what this service writes into a token: an id and a time the database can hold.
    if (typeof time === 'string' && typeof id === 'string' && PAGE_TOKEN_ID.test(id) && isStorableTime(createdAt)) return { createdAt, id };
  } catch {
    // fall through to the problem below
  }
  throw invalidPageToken();
}

export const invalidPageToken = () =>
  new DomainError('validation_failed', 'page_token is not a token this service issued', {
    errors: [{ path: 'page_token', message: 'not a valid page token' }],
  });

/**
 * Keyset pagination over (created_at, id): stable under concurrent inserts, and served by the
 * (org_id, created_at, id) indexes whatever the page number.
 */
export async function paginate<T extends Cursor>(
  page: PageRequest,
  fetch: (args: { where: object; take: number; orderBy: Array<{ createdAt: 'asc' } | { id: 'asc' }> }) => Promise<T[]>,
): Promise<Page<T>> {
  const cursor = page.page_token ? decodePageToken(page.page_token) : undefined;
  // The redundant `created_at >= x` bound is what lets Postgres seek into the index; with the OR
  // alone it walked the organization's rows from the first (p50 47 ms at 100,000 keys).
  const where = cursor
    ? {
        createdAt: { gte: cursor.createdAt },
        OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }],
      }
    : {};
  const rows = await fetch({ where, take: page.page_size + 1, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const data = rows.slice(0, page.page_size);
  const last = data.at(-1);
  return { data, next_page_token: rows.length > page.page_size && last ? encodePageToken(last) : null };
}
