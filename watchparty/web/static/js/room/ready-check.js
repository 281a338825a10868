// The "Ready check" status (SPEC R111, R94a): who the room waits for before it plays,
// and how long it may still wait, on the server's clock.
import {byId, setText, viewersLabel} from "../common.js";
import {serverClock} from "./server-clock.js";

const REFRESH_MS = 250;

export function waitingText(count, secondsLeft) {
  return "Waiting for " + viewersLabel(count) + "… " + Math.max(0, Math.ceil(secondsLeft)) + " s";
}

export class ReadyCheck {
  constructor(page, connection) {
    this.status = byId("ready-check");
    this.check = null;
    this.timer = null;
    connection.on("READY_CHECK", (payload) => this.onReadyCheck(payload));
    page.onClose(() => this.show(null));
  }

  onReadyCheck(payload) {
    const pending = payload && Array.isArray(payload.waiting) && payload.waiting.length > 0 &&
      typeof payload.deadline === "number";
    this.show(pending ? {count: payload.waiting.length, deadline: payload.deadline} : null);
  }

  show(check) {
    this.check = check;
    clearInterval(this.timer);
    this.timer = null;
    this.status.hidden = check === null;
    if (check === null) {
      setText(this.status, "");
      return;
    }
    this.render();
    this.timer = setInterval(() => this.render(), REFRESH_MS);
  }

  render() {
    const check = this.check;
    setText(this.status, waitingText(check.count, check.deadline - serverClock.serverNow()));
  }
}
