/** An abortable wait on the client's clock, shared by rate-limit pacing and retry backoff. */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { systemClock, type Clock } from '../ports';
import { raceAbort } from './credentials';

/** Waits `ms` on `clock`; rejects with the signal's reason as soon as it is aborted. */
export async function abortableSleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  if (clock === systemClock) {
    // An abortable timer, so that an aborted run does not keep the process alive.
    await sleepTimer(ms, undefined, signal ? { signal } : undefined).catch((e: unknown) => {
      throw signal?.aborted ? signal.reason : e;
    });
    return;
  }
  signal?.throwIfAborted();
  await raceAbort(clock.sleep(ms), signal);
}
