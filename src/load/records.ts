/**
 * Per-request records stored column by column in typed arrays: a few bytes per request and no
 * object per request, so keeping them does not slow the send loop.
 */
import { ERROR_KINDS } from './errors.ts';
import type { ErrorKind } from './errors.ts';

/** The records of a run as plain data; times in ms from the start of the run. */
export interface RequestRecords {
  count: number;
  /** Requests completed beyond the `maxRecords` cap: counted, not kept. */
  overflow: number;
  intendedMs: number[];
  /** When undici wrote the request to a socket; NaN (null in JSON) if it never was. */
  sentMs: number[];
  doneMs: number[];
  /** 0 when no response came. */
  status: number[];
  /** Response body bytes. */
  bytes: number[];
  /** Error kind, or null for a response. */
  error: (ErrorKind | null)[];
  /** Index into `instances`, or -1 when the response had no instance header. */
  instance: number[];
  instances: string[];
}

const INITIAL_CAPACITY = 4_096;

export class RecordStore {
  count = 0;
  overflow = 0;
  #capacity = 0;
  #intended = new Float64Array(0);
  #sent = new Float64Array(0);
  #done = new Float64Array(0);
  #status = new Uint16Array(0);
  #bytes = new Uint32Array(0);
  #error = new Uint8Array(0);
  #instance = new Int32Array(0);
  readonly #instanceIds = new Map<string, number>();
  readonly #maxRecords: number;
  readonly #originMs: number;

  constructor(originMs: number, maxRecords: number) {
    this.#originMs = originMs;
    this.#maxRecords = maxRecords;
  }

  /** Appends one record; `errorCode` 0 = response, else 1 + index into ERROR_KINDS. */
  add(intended: number, sent: number, done: number, status: number, bytes: number, errorCode: number, instance: string | undefined): void {
    const i = this.count;
    if (i >= this.#capacity && !this.#grow()) {
      this.overflow++;
      return;
    }
    const o = this.#originMs;
    this.#intended[i] = intended - o;
    this.#sent[i] = sent - o;
    this.#done[i] = done - o;
    this.#status[i] = status;
    this.#bytes[i] = Math.min(bytes, 0xffffffff);
    this.#error[i] = errorCode;
    this.#instance[i] = instance === undefined ? -1 : this.#instanceId(instance);
    this.count = i + 1;
  }

  toPlain(): RequestRecords {
    const n = this.count;
    return {
      count: n,
      overflow: this.overflow,
      intendedMs: Array.from(this.#intended.subarray(0, n)),
      sentMs: Array.from(this.#sent.subarray(0, n)),
      doneMs: Array.from(this.#done.subarray(0, n)),
      status: Array.from(this.#status.subarray(0, n)),
      bytes: Array.from(this.#bytes.subarray(0, n)),
      error: Array.from(this.#error.subarray(0, n), (code) => (code === 0 ? null : (ERROR_KINDS[code - 1] ?? 'other'))),
      instance: Array.from(this.#instance.subarray(0, n)),
      instances: [...this.#instanceIds.keys()],
    };
  }

  #instanceId(name: string): number {
    let id = this.#instanceIds.get(name);
    if (id === undefined) {
      id = this.#instanceIds.size;
      this.#instanceIds.set(name, id);
    }
    return id;
  }

  #grow(): boolean {
    if (this.#capacity >= this.#maxRecords) return false;
    const cap = Math.min(this.#maxRecords, Math.max(INITIAL_CAPACITY, this.#capacity * 2));
    this.#intended = grown(Float64Array, this.#intended, cap);
    this.#sent = grown(Float64Array, this.#sent, cap);
    this.#done = grown(Float64Array, this.#done, cap);
    this.#status = grown(Uint16Array, this.#status, cap);
    this.#bytes = grown(Uint32Array, this.#bytes, cap);
    this.#error = grown(Uint8Array, this.#error, cap);
    this.#instance = grown(Int32Array, this.#instance, cap);
    this.#capacity = cap;
    return true;
  }
}

type TypedArray = Float64Array | Uint16Array | Uint32Array | Uint8Array | Int32Array;

function grown<T extends TypedArray>(Ctor: new (length: number) => T, old: T, capacity: number): T {
  const next = new Ctor(capacity);
  next.set(old);
  return next;
}
