import { open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalid } from '../shared/errors.ts';
import { formatRejectLine, type RejectLine } from './import.ts';

/**
 * The rejects file of an import: NDJSON, one line per rejected row. Appends are flushed to disk
 * (fsync) before the batch that produced them commits, and the committed checkpoint records the
 * file's length, so after a crash the file is cut back to exactly the rejects of committed batches.
 */
export class RejectsFile {
  private constructor(
    readonly path: string,
    private readonly handle: Awaited<ReturnType<typeof open>>,
    private size: number,
  ) {}

  /** Creates (or empties) the rejects file of a new run, and makes its directory entry durable. */
  static async create(path: string): Promise<RejectsFile> {
    const handle = await open(path, 'w');
    await handle.sync();
    await syncDirectory(dirname(path));
    return new RejectsFile(path, handle, 0);
  }

  /** Opens the rejects file of a resumed run and cuts it back to the length at the checkpoint. */
  static async resume(path: string, length: number): Promise<RejectsFile> {
    const existing = await stat(path).catch(() => undefined);
    if (!existing && length === 0) return RejectsFile.create(path);
    if (!existing || existing.size < length) {
      throw invalid(
        'IMPORT_REJECTS_FILE_TRUNCATED',
        `The rejects file ${path} is shorter than the import recorded (${length} bytes); rejects of the interrupted run were lost. Run the import again with --restart.`,
        { rejectsFile: path, expectedBytes: length, actualBytes: existing?.size ?? null },
      );
    }
    const handle = await open(path, 'r+');
    await handle.truncate(length);
    await handle.sync();
    return new RejectsFile(path, handle, length);
  }

  /** Length of the file in bytes. */
  get length(): number {
    return this.size;
  }

  /** Cuts the file back to `length` bytes (the rejects of committed batches) and flushes that. */
  async truncate(length: number): Promise<void> {
    if (length > this.size) {
      throw invalid(
        'IMPORT_REJECTS_FILE_TRUNCATED',
        `The rejects file ${this.path} is shorter than the import recorded (${length} bytes). Run the import again with --restart.`,
        { rejectsFile: this.path, expectedBytes: length, actualBytes: this.size },
      );
    }
    await this.handle.truncate(length);
    await this.handle.datasync();
    this.size = length;
  }

  /** Appends rejects and flushes them to disk; returns the new length. */
  async append(rejects: readonly RejectLine[]): Promise<number> {
    if (rejects.length === 0) return this.size;
    const buffer = Buffer.from(rejects.map(formatRejectLine).join(''), 'utf8');
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.handle.write(
        buffer,
        written,
        buffer.length - written,
        this.size + written,
      );
      written += bytesWritten;
    }
    await this.handle.datasync();
    this.size += buffer.length;
    return this.size;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Makes a new file's directory entry durable; not every platform can open a directory, so failures are ignored. */
async function syncDirectory(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the file's own data is synced regardless.
  }
}
