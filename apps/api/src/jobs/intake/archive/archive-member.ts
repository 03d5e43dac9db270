/** What an archive reader reports for each entry; only regular files become items. */
export interface ArchiveEntry {
  /** The name as the archive spells it (decoded). */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Declared size of its contents, in bytes. */
  size: number;
  /** Why the reader refuses it (encrypted, ...), besides what the intake checks. */
  refusal?: string;
}

/**
 * Receives each entry in order; for a regular file the intake says whether it wants the bytes (to write them
 * under the job's folder), and gets them through `contents`.
 */
export type EntrySink = (entry: ArchiveEntry, contents: () => Promise<Buffer>) => Promise<void>;

/** Whole-archive limits: members, bytes expanded and the expansion ratio (bombs). */
export interface ArchiveLimits {
  maxMembers: number;
  maxExpandedBytes: number;
  maxCompressionRatio: number;
  /** Members larger than this are not read at all (the intake refuses them as `too_large`). */
  maxMemberBytes: number;
}

/** Below this many expanded bytes the ratio is not judged (a small archive of tiny files compresses well). */
export const RATIO_FLOOR_BYTES = 16 * 1024 * 1024;
