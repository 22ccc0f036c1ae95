/**
 * The secret with its last character replaced by a different one. Appending a fixed character
 * instead made the "wrong" secret the right one whenever the secret already ended with it (1 run
 * in 62).
 */
export const wrongSecret = (secret: string): string => secret.slice(0, -1) + (secret.endsWith('x') ? 'y' : 'x');
