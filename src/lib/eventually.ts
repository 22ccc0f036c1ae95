/**
 * A value now or later. The verification paths answer a cache hit synchronously and return a
 * promise only when they must wait (a database read, an argon2 run), so a hit costs no promise
 * and no trip through the microtask queue: on a cached verification those hops were a fifth of
 * the request's CPU.
 */
export type Eventually<T> = T | Promise<T>;

/**
 * `next` applied to `value`, now when the value is here, else when it arrives. A throw in `next`
 * reaches the caller synchronously in the first case and as a rejection in the second: callers
 * handle both (Fastify does, for handlers).
 */
export function andThen<T, U>(value: Eventually<T>, next: (value: T) => Eventually<U>): Eventually<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
