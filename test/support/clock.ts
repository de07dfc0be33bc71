/** A clock that tests move by hand, so time-dependent rules run without waiting. */
export class TestClock {
  private current: number;

  constructor(start: string | Date = '2026-12-04T09:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }

  set(instant: string | Date): void {
    this.current = new Date(instant).getTime();
  }
}
