// "Vote to skip" (SPEC R156) with the count beside it ("1 of 2"), from SKIP_VOTES.
import {byId, setText} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";

export class SkipVotes {
  constructor(page, connection) {
    this.page = page;
    this.button = byId("vote-skip");
    this.count = byId("skip-count");
    this.error = byId("queue-error");
    connection.on("SKIP_VOTES", (payload) => this.show(payload));
    this.button.addEventListener("click", () => this.vote());
    page.onRoomChange((room) => this.enable(room));
    this.enable(page.room);
  }

  enable(room) {
    const off = !room.media || !room.settings || room.settings.skip_vote_ratio === null;
    this.button.hidden = off;
    this.count.hidden = off;
  }

  show(payload) {
    if (payload && typeof payload.votes === "number" && typeof payload.needed === "number") {
      setText(this.count, payload.votes + " of " + payload.needed);
    }
  }

  vote() {
    setText(this.error, "");
    requestJson(this.page, "POST", roomPath(this.page) + "queue/skip/", {}).then(
      (result) => {
        if (result.status !== 200) {
          setText(this.error, errorMessage(result, "Your vote was not counted."));
        }
      },
      () => setText(this.error, "The server did not answer.")
    );
  }
}
