/** The field paths a validation problem (422) names, sorted. */
export const paths = (body: { errors: Array<{ path: string }> }) => body.errors.map((e) => e.path).sort();
