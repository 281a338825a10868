// The server's clock, as seen from this page (SPEC R120, R124). NTP's exchange over
// TIME_SYNC gives an offset and a round trip per sample; the sample with the lowest
// round trip of the last 8 wins (NTP's minimum filter), so a slow answer never moves
// the offset. The local clock is performance.now(): monotonic, and blind to whatever
// the computer's wall clock says, which the page never trusts.

const KEEP = 8;
const FIRST_EXCHANGES = 5;
const EVERY_MS = 10000;
const ANSWER_WITHIN_MS = 3000;

// Seconds on this page's monotonic clock.
export function localNow() {
  return performance.now() / 1000;
}

export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

export class ServerClock {
  constructor() {
    this.samples = [];
    this.guess = null; // offset from a snapshot's server_time, until TIME_SYNC answers
  }

  // One exchange: t0 and t3 on the local clock, t1 and t2 on the server's.
  add(t0, t1, t2, t3) {
    const rtt = t3 - t0 - (t2 - t1);
    if (![t0, t1, t2, t3].every(isNumber) || rtt < 0) {
      return;
    }
    this.samples.push({offset: (t1 - t0 + (t2 - t3)) / 2, rtt: rtt});
    this.samples = this.samples.slice(-KEEP);
  }

  best() {
    return this.samples.reduce((best, s) => (best === null || s.rtt < best.rtt ? s : best), null);
  }

  // A snapshot arrived: without any exchange yet, assume it took no time to come.
  hint(serverTime) {
    if (isNumber(serverTime) && this.guess === null) {
      this.guess = serverTime - localNow();
    }
  }

  // server time = local time + offset
  get offset() {
    const best = this.best();
    return best ? best.offset : this.guess || 0;
  }

  // The round trip of the best sample, seconds, or null before any exchange.
  get rtt() {
    const best = this.best();
    return best ? best.rtt : null;
  }

  toLocal(serverTime) {
    return serverTime - this.offset;
  }

  serverNow() {
    return localNow() + this.offset;
  }
}

// One TIME_SYNC exchange on a socket.io socket; the answer is fed to the clock.
function exchange(socket, clock) {
  const t0 = localNow();
  socket.timeout(ANSWER_WITHIN_MS).emit("TIME_SYNC", {t0: t0}, (error, answer) => {
    const t3 = localNow();
    if (!error && answer && answer.t0 === t0) {
      clock.add(t0, answer.t1, answer.t2, t3);
    }
  });
}

// The page's one estimate of the server's clock.
export const serverClock = new ServerClock();

// At least 5 exchanges on connect (spread over a second), then one every 10 s.
// Returns a function that stops them.
export function keepInSync(socket, clock) {
  const timers = [];
  for (let i = 0; i < FIRST_EXCHANGES; i += 1) {
    timers.push(setTimeout(() => exchange(socket, clock), i * 200));
  }
  const every = setInterval(() => exchange(socket, clock), EVERY_MS);
  return () => {
    timers.forEach(clearTimeout);
    clearInterval(every);
  };
}

// Keep the page's clock estimate fresh while `connection` is connected.
export function followServerClock(connection) {
  let stop = null;
  connection.on("connect", () => {
    if (stop) {
      stop();
    }
    stop = keepInSync(connection.socket, serverClock);
  });
  connection.on("disconnect", () => {
    if (stop) {
      stop();
    }
    stop = null;
  });
}
