/**
 * Keeping pieces of long work: the method's long searches take a keeper so that the pipeline can
 * save each piece (in a stage's work folder) and resume after an interruption, while a notebook
 * simply computes.
 *
 * @module
 */

/**
 * Keeps a piece of work under a key: returns what was kept for `key`, else computes it and keeps
 * it.
 */
export type KeepPiece = <T>(key: string, compute: () => Promise<T>) => Promise<T>;

/** The {@linkcode KeepPiece} that always computes. */
export const keepNothing: KeepPiece = (_key, compute) => compute();
