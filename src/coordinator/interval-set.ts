// Free MACs of a site's range as an interval set (pure).
import { formatMac } from '../shared/addresses.js';
import { InternalError } from '../shared/errors.js';

export class IntervalSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private freeCount = 0;

  /** The complement of `usedSorted` (ascending, distinct, inside the range). */
  constructor(first: number, last: number, usedSorted: ArrayLike<number> = []) {
    let next = first;
    for (let i = 0; i < usedSorted.length; i++) {
      const u = usedSorted[i] as number;
      if (u > next) this.pushRun(next, u - 1);
      next = u + 1;
    }
    if (next <= last) this.pushRun(next, last);
  }

  private pushRun(a: number, b: number): void {
    this.starts.push(a);
    this.ends.push(b);
    this.freeCount += b - a + 1;
  }

  get free(): number {
    return this.freeCount;
  }

  /** The `k` lowest free values, or undefined (and nothing taken) if fewer are free. */
  take(k: number): number[] | undefined {
    if (k > this.freeCount) return undefined;
    const out: number[] = [];
    let i = 0;
    while (out.length < k) {
      let s = this.starts[i] as number;
      const e = this.ends[i] as number;
      while (out.length < k && s <= e) out.push(s++);
      if (s > e) i++;
      else this.starts[i] = s;
    }
    if (i > 0) {
      this.starts.splice(0, i);
      this.ends.splice(0, i);
    }
    this.freeCount -= k;
    return out;
  }

  /** Returns values (any order) to the set; a value already free is a bug, not a no-op. */
  put(values: readonly number[]): void {
    // take() hands MACs out in ascending order, so a lease's list usually needs no sort.
    let ascending = true;
    for (let i = 1; i < values.length && ascending; i++) ascending = (values[i] as number) > (values[i - 1] as number);
    const sorted = ascending ? values : [...values].sort((x, y) => x - y);
    let i = 0;
    while (i < sorted.length) {
      const a = sorted[i] as number;
      let b = a;
      while (i + 1 < sorted.length && sorted[i + 1] === b + 1) b = sorted[++i] as number;
      i++;
      this.putRun(a, b);
    }
  }

  private putRun(a: number, b: number): void {
    // idx = first run starting after a.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as number) > a) hi = mid;
      else lo = mid + 1;
    }
    const idx = lo;
    const prevEnd = idx > 0 ? (this.ends[idx - 1] as number) : undefined;
    const nextStart = idx < this.starts.length ? (this.starts[idx] as number) : undefined;
    if ((prevEnd !== undefined && prevEnd >= a) || (nextStart !== undefined && nextStart <= b)) {
      throw new InternalError(`MAC interval set: double free around ${formatMac(a)}`);
    }
    const joinPrev = prevEnd !== undefined && prevEnd + 1 === a;
    const joinNext = nextStart !== undefined && b + 1 === nextStart;
    if (joinPrev && joinNext) {
      this.ends[idx - 1] = this.ends[idx] as number;
      this.starts.splice(idx, 1);
      this.ends.splice(idx, 1);
    } else if (joinPrev) {
      this.ends[idx - 1] = b;
    } else if (joinNext) {
      this.starts[idx] = a;
    } else {
      this.starts.splice(idx, 0, a);
      this.ends.splice(idx, 0, b);
    }
    this.freeCount += b - a + 1;
  }
}

// ---------------------------------------------------------------------------------------------

