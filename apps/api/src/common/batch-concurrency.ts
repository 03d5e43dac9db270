/** Photos of one batch in flight at once: enough to overlap downloads, few enough not to starve other requests. */
export const BATCH_CONCURRENCY = 4;
