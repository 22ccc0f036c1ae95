import { type Command, InvalidArgumentError, Option } from 'commander';

/** commander parsers: a bad value is a usage error (exit 2) that names the option. */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

export function timestamp(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected an RFC 3339 time such as 2027-06-01T00:00:00Z');
  }
  return value;
}

export interface PageOptions {
  pageSize?: number;
  pageToken?: string;
}

/** --page-size / --page-token, as every list endpoint takes them. */
export function withPaging(command: Command): Command {
  return command
    .option('--page-size <n>', 'items per page (1-100, default 20)', integerIn(1, 100))
    .option('--page-token <token>', 'next_page_token of the previous page');
}

export function pageQuery(options: PageOptions): { page_size?: number; page_token?: string } {
  return { ...(options.pageSize !== undefined ? { page_size: options.pageSize } : {}), ...(options.pageToken ? { page_token: options.pageToken } : {}) };
}

/** Every create takes --idempotency-key (a CI run id makes a rerun job replay, not create again). */
export function withIdempotencyKey(command: Command): Command {
  return command.addOption(
    new Option('--idempotency-key <key>', 'make the create at most once for this key (16-255 visible ASCII characters); default: one per invocation').argParser(
      (value) => {
        if (!/^[\x21-\x7e]{16,255}$/.test(value)) throw new InvalidArgumentError('expected 16 to 255 visible ASCII characters');
        return value;
      },
    ),
  );
}

/** Drops undefined fields, so an omitted option is not sent at all. */
export function defined<T extends Record<string, unknown>>(object: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
