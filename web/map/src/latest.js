// latest keeps one request of a kind in flight: a new question (another
// popup, another reach threshold, another position) aborts the one before
// with an AbortController, so an old answer can neither land on screen
// nor keep the network busy. Pure: no DOM, no Leaflet.

/**
 * Latest hands out AbortSignals. next() aborts the signal it gave last and
 * returns a new one; cancel() aborts it and gives none. Code that awaits
 * with a signal checks signal.aborted afterwards: a fetch that was already
 * answered does not reject, but its answer is no longer wanted.
 */
export class Latest {
  constructor() {
    this.ctl = null;
  }

  /** next supersedes the request in flight and returns the new one's signal. */
  next() {
    this.cancel();
    this.ctl = new AbortController();
    return this.ctl.signal;
  }

  /** cancel aborts the request in flight, if any. */
  cancel() {
    this.ctl?.abort();
    this.ctl = null;
  }
}
