/**
 * A hot-swappable resource: requests `acquire` the current version and `release` it when done;
 * `swap` installs a new version for new requests, and the old one is disposed of only once its
 * last in-flight request has released it — so a reload never fails a request.
 */
export class Versioned<T> {
  private cur: {value: T; refs: number; retired: boolean} | null = null;
  constructor(
    private readonly dispose: (v: T) => void | Promise<void>,
    private readonly missing: () => Error,
  ) {}

  get current(): T | null {
    return this.cur?.value ?? null;
  }

  swap(value: T): void {
    const old = this.cur;
    this.cur = {value, refs: 0, retired: false};
    if (old) {
      old.retired = true;
      if (old.refs === 0) void this.dispose(old.value);
    }
  }

  /** Runs `fn` with the current version held; throws `missing()` when there is none yet. */
  async use<R>(fn: (v: T) => Promise<R> | R): Promise<R> {
    const held = this.cur;
    if (!held) throw this.missing();
    held.refs++;
    try {
      return await fn(held.value);
    } finally {
      held.refs--;
      if (held.retired && held.refs === 0) void this.dispose(held.value);
    }
  }

  /**
   * Holds the current version until `release()` is called (once; later calls do nothing): for
   * work that outlives the handler, such as a streamed response. Throws `missing()` when there
   * is none yet.
   */
  hold(): {value: T; release: () => void} {
    const held = this.cur;
    if (!held) throw this.missing();
    held.refs++;
    let released = false;
    return {
      value: held.value,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.retired && held.refs === 0) void this.dispose(held.value);
      },
    };
  }

  close(): void {
    const old = this.cur;
    this.cur = null;
    if (old) {
      old.retired = true;
      if (old.refs === 0) void this.dispose(old.value);
    }
  }
}

/**
 * A file-backed resource served in versions (the warehouse, the model): `use` pins the current
 * version for a request, `check` looks for a new one (concurrent checks share one run) and a
 * poll timer repeats the check. Subclasses say how to open a new version in `doCheck`.
 */
export abstract class ReloadingStore<T> {
  protected abstract readonly versions: Versioned<T>;
  private checking: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  lastError: string | null = null;

  get current(): T | null {
    return this.versions.current;
  }

  use<R>(fn: (v: T) => Promise<R>): Promise<R> {
    return this.versions.use(fn);
  }

  /** Pins the current version until `release()` (see Versioned.hold). */
  hold(): {value: T; release: () => void} {
    return this.versions.hold();
  }

  /** Opens the newest version if it differs from the one being served. */
  check(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = this.doCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  protected abstract doCheck(): Promise<void>;

  /** Re-checks every `pollMs` (0 = never). */
  protected poll(pollMs: number): void {
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.check(), pollMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.versions.close();
  }
}
